#!/usr/bin/env python3
"""Known answers for how e2e.py combines several drains of one system (run by
bench/compare.sh before every benchmark, `make test` included)."""
from __future__ import annotations

import unittest

import e2e


def drain(rate, cpu, rss, bad=None, larger=()):
    return {"images": 300, "drain_s": round(300 / rate, 3), "startup_s": 0.5, "images_per_s": rate,
            "cpu_s_per_image": cpu, "minio_cpu_s_per_image": 0.009, "kafka_cpu_s_per_image": None,
            "peak_rss_mb": rss, "out_kib_per_image": 98.4, "bad_outputs": dict(bad or {}),
            "larger_than_input": list(larger)}


class CombineDrains(unittest.TestCase):
    def test_one_round_is_that_round_alone(self):
        one = drain(14.0, 0.104, 180)
        self.assertEqual(e2e.combine_drains([one]), one)
        self.assertNotIn("drain_rounds", e2e.combine_drains([one]))

    def test_rates_and_costs_are_medians_each_on_its_own(self):
        combined = e2e.combine_drains([drain(13.6, 0.110, 180), drain(16.0, 0.103, 170), drain(15.0, 0.101, 190)])
        self.assertEqual(combined["images_per_s"], 15.0)
        self.assertEqual(combined["cpu_s_per_image"], 0.103)
        self.assertEqual(combined["minio_cpu_s_per_image"], 0.009)
        self.assertIsNone(combined["kafka_cpu_s_per_image"], "not measured in any round")
        self.assertEqual([r["images_per_s"] for r in combined["drain_rounds"]], [13.6, 16.0, 15.0])

    def test_the_worst_memory_and_every_wrong_output_count(self):
        combined = e2e.combine_drains([drain(14, 0.1, 180, bad={"drain/a.jpg": "not a JPEG"}),
                                       drain(15, 0.1, 210, larger=["drain2/b.png"])])
        self.assertEqual(combined["peak_rss_mb"], 210)
        self.assertEqual(combined["bad_outputs"], {"drain/a.jpg": "not a JPEG"})
        self.assertEqual(combined["larger_than_input"], ["drain2/b.png"])

    def test_rounds_without_outputs_to_check_get_none(self):
        runs = [{"images": 300, "images_per_s": 19.0, "cpu_s_per_image": 0.1, "peak_rss_mb": 1300},
                {"images": 300, "images_per_s": 20.0, "cpu_s_per_image": 0.09, "peak_rss_mb": 1350}]
        combined = e2e.combine_drains(runs)
        self.assertNotIn("bad_outputs", combined)
        self.assertEqual((combined["images_per_s"], combined["peak_rss_mb"]), (19.5, 1350))


if __name__ == "__main__":
    unittest.main()
