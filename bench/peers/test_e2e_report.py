#!/usr/bin/env python3
"""Known answers for the bounds e2e_report.py writes under the results (run
by bench/compare.sh before every benchmark, `make test` included)."""
from __future__ import annotations

import unittest

import e2e_report


class IdealConsumer(unittest.TestCase):
    def test_events_far_apart_each_take_only_their_own_time(self):
        self.assertEqual(e2e_report.ideal_consumer_p50([0, 1000, 2000], 50), 50)

    def test_a_burst_of_six_waits_in_line(self):
        # finished after 50, 100, ... 300 ms: the median of six is 175
        self.assertEqual(e2e_report.ideal_consumer_p50([0] * 6, 50), 175)

    def test_arrivals_need_not_come_sorted(self):
        self.assertEqual(e2e_report.ideal_consumer_p50([3000, 0, 10], 50),
                         e2e_report.ideal_consumer_p50([0, 10, 3000], 50))

    def test_no_arrivals_no_bound(self):
        self.assertIsNone(e2e_report.ideal_consumer_p50([], 50))


class Bursts(unittest.TestCase):
    def test_groups_events_closer_than_the_gap(self):
        self.assertEqual(e2e_report.bursts([0, 10, 20, 3000, 3010, 6000]), [3, 2, 1])

    def test_a_gap_of_exactly_the_limit_starts_a_new_burst(self):
        self.assertEqual(e2e_report.bursts([0, 200], gap_ms=200), [1, 1])


class Bounds(unittest.TestCase):
    def result(self):
        def system(name, **fields):
            return {"name": name, **fields}
        return {"machine": {"cores": 2}, "systems": [
            system("imgpipe-image", images_per_s=14.0, cpu_s_per_image=0.107, minio_cpu_s_per_image=0.010,
                   kafka_cpu_s_per_image=0.002, samples={"arrivals_ms": [0, 0, 0, 0, 3000]}),
            system("node-sharp", images_per_s=15.0, cpu_s_per_image=0.121),
            system("limit-image", images_per_s=18.0, cpu_s_per_image=0.088)]}

    def test_the_ideal_drain_pays_the_ceiling_and_the_stack_on_every_core(self):
        b = e2e_report.bounds(self.result())
        self.assertEqual(b["drain_images_per_s"], 20.0)  # 2 cores / (88 + 10 + 2 ms)
        self.assertEqual(b["drain_vs_node_sharp"], round(20 / 15, 3))

    def test_the_ideal_consumer_spreads_the_ceiling_over_every_core(self):
        b = e2e_report.bounds(self.result())
        self.assertEqual(b["service_ms"], 44)
        self.assertEqual(b["consumer_p50_ms"], 88)  # waits 44, 88, 132, 176 and 44
        self.assertEqual((b["bursts"], b["largest_burst"]), (2, 4))

    def test_the_s3_requests_raise_the_floor_under_cpu_per_image(self):
        result = self.result()
        result["s3_client_floor"] = {"photos": 60, "mean_photo_mib": 3.4, "put_kib": 99.0, "get_ms": 1.1,
                                     "put_ms": 0.25, "head_ms": 0.15, "per_photo_ms": 1.5}
        b = e2e_report.bounds(result)
        self.assertEqual(b["cpu_vs_ceiling"], round(89.5 / 88, 3))
        self.assertIn("1.017× limit-image", "\n".join(e2e_report.bounds_lines(b)))

    def test_the_render_alone_is_compared_with_the_ceiling(self):
        result = self.result()
        result["systems"][2]["render_cpu_s_per_image"] = 0.0902
        b = e2e_report.bounds(result)
        self.assertEqual((b["render_ms"], b["render_vs_ceiling"]), (90.2, 1.025))
        self.assertIn("90.2 ms of CPU per image, 1.025× limit-image's", "\n".join(e2e_report.bounds_lines(b)))

    def test_the_thinnest_s3_consumer_is_compared_with_the_ceiling_and_the_subject(self):
        result = self.result()
        result["systems"][2]["s3_cpu_s_per_image"] = 0.0946
        b = e2e_report.bounds(result)
        self.assertEqual((b["s3_consumer_ms"], b["s3_consumer_vs_ceiling"]), (94.6, 1.075))
        self.assertEqual(b["subject_vs_s3_consumer"], 1.131)  # 107 / 94.6
        self.assertIn("94.6 ms of CPU per image, 1.075× limit-image's", "\n".join(e2e_report.bounds_lines(b)))

    def test_without_the_s3_floor_there_is_no_cpu_bound(self):
        self.assertNotIn("cpu_vs_ceiling", e2e_report.bounds(self.result()))

    def test_without_a_ceiling_there_is_no_bound(self):
        result = self.result()
        result["systems"] = result["systems"][:2]
        self.assertEqual(e2e_report.bounds(result), {})


class ProcessShares(unittest.TestCase):
    def test_each_start_of_the_processes_is_shown_apart(self):
        starts = [[{"outputs": 147}, {"outputs": 153}], [{"outputs": 213}, {"outputs": 217}]]
        line = e2e_report.process_shares({"name": "python-procs", "processes": starts})
        self.assertIn("each of its 2 processes", line)
        self.assertTrue(line.endswith(": 147 + 153; 213 + 217."), line)

    def test_one_process_needs_no_line(self):
        starts = [[{"outputs": 300}], [{"outputs": 330}]]
        self.assertIsNone(e2e_report.process_shares({"name": "python-tutorial", "processes": starts}))


class Rounds(unittest.TestCase):
    def test_several_drains_are_listed_round_by_round(self):
        rounds = [{"images_per_s": 13.6, "cpu_s_per_image": 0.110}, {"images_per_s": 16.0, "cpu_s_per_image": 0.103}]
        lines = e2e_report.rounds_lines({"systems": [{"name": "imgpipe", "drain_rounds": rounds}]})
        self.assertIn("| imgpipe | 13.60, 16.00 | 110, 103 |", lines)

    def test_one_drain_needs_no_list(self):
        self.assertEqual(e2e_report.rounds_lines({"systems": [{"name": "imgpipe", "images_per_s": 14}]}), [])



class LimitShrink(unittest.TestCase):
    def test_names_how_the_limit_rows_decoded(self):
        systems = [{"name": "imgpipe"}, {"name": "limit", "shrink_on_load": "fast"},
                   {"name": "limit-image", "shrink_on_load": "fast"}]
        self.assertEqual(e2e_report.limit_shrink(systems),
                         " The limit rows decode JPEGs with shrink-on-load fast (imgpipe's default is fast).")

    def test_says_nothing_for_results_from_before_the_option(self):
        self.assertEqual(e2e_report.limit_shrink([{"name": "limit"}]), "")

if __name__ == "__main__":
    unittest.main()
