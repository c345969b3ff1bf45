#include "s3/xml.h"

#include <gtest/gtest.h>

namespace imgpipe::s3 {
namespace {

TEST(Xml, text_of_the_first_matching_element_is_returned_decoded) {
  EXPECT_EQ(xml_text("<A><Key>a &amp; b</Key><Key>second</Key></A>", "Key"), "a & b");
}

TEST(Xml, missing_element_gives_nullopt) {
  EXPECT_EQ(xml_text("<A><Other>x</Other></A>", "Key"), std::nullopt);
}

TEST(Xml, longer_tag_names_with_the_same_prefix_do_not_match) {
  EXPECT_EQ(xml_text("<R><KeyCount>3</KeyCount><Key>k</Key></R>", "Key"), "k");
}

TEST(Xml, elements_with_attributes_and_self_closing_elements_are_found) {
  const auto elements = xml_elements(R"(<R><P a="1">x</P><P/><P >y</P></R>)", "P");
  ASSERT_EQ(elements.size(), 3U);
  EXPECT_EQ(elements[0], "x");
  EXPECT_EQ(elements[1], "");
  EXPECT_EQ(elements[2], "y");
}

TEST(Xml, all_elements_are_returned_in_document_order_with_nested_content) {
  const auto elements = xml_elements("<L><C><Key>a</Key></C><C><Key>b</Key></C></L>", "C");
  ASSERT_EQ(elements.size(), 2U);
  EXPECT_EQ(elements[0], "<Key>a</Key>");
  EXPECT_EQ(elements[1], "<Key>b</Key>");
}

TEST(Xml, unterminated_element_ends_the_search) {
  EXPECT_TRUE(xml_elements("<R><Key>a</Key><Key>b", "Key").size() == 1);
  EXPECT_TRUE(xml_elements("<R><Key", "Key").empty());
}

TEST(Xml, five_predefined_entities_are_decoded) {
  EXPECT_EQ(xml_decode("&amp;&lt;&gt;&quot;&apos;"), "&<>\"'");
}

TEST(Xml, numeric_references_decode_to_utf8) {
  EXPECT_EQ(xml_decode("&#34;etag&#34;"), "\"etag\"");
  EXPECT_EQ(xml_decode("&#x26;&#xE9;&#x20AC;&#x1F600;"), "&\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
}

TEST(Xml, unknown_or_malformed_references_are_kept_verbatim) {
  EXPECT_EQ(xml_decode("a &nbsp; b & c &#xZZ; &#0; &#xD800; &amp"),
            "a &nbsp; b & c &#xZZ; &#0; &#xD800; &amp");
}

TEST(Xml, cdata_sections_are_unwrapped_without_decoding) {
  EXPECT_EQ(xml_decode("x<![CDATA[a &amp; <b>]]>y"), "xa &amp; <b>y");
}

TEST(Xml, escape_round_trips_through_decode) {
  const std::string text = "\"a\" & 'b' <c>";
  EXPECT_EQ(xml_escape(text), "&quot;a&quot; &amp; &apos;b&apos; &lt;c&gt;");
  EXPECT_EQ(xml_decode(xml_escape(text)), text);
}

}  // namespace
}  // namespace imgpipe::s3
