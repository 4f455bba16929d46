"""Unit tests of scripts/test_all.py's counting (python3 -m unittest scripts/test_test_all.py)."""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_all import count  # noqa: E402


class CountTest(unittest.TestCase):
    def test_cargo_lines_are_summed(self):
        out = ["test result: ok. 3 passed; 0 failed; 0 ignored", "test result: FAILED. 4 passed; 2 failed;"]
        self.assertEqual(count(out), (7, 2))

    def test_labelled_total_replaces_the_plain_lines_before_it(self):
        out = ["10 passed, 0 failed", "5 passed, 1 failed", "reliability: 15 passed, 1 failed", "2 passed, 0 failed"]
        self.assertEqual(count(out), (17, 1))

    def test_ctest_minitest_go_unittest(self):
        self.assertEqual(count(["90% tests passed, 1 tests failed out of 10"]), (9, 1))
        self.assertEqual(count(["12 runs, 40 assertions, 1 failures, 1 errors, 0 skips"]), (10, 2))
        self.assertEqual(count(["ok  \tgithub.com/x/y\t0.1s", "--- FAIL: TestZ (0.00s)"]), (1, 1))
        self.assertEqual(count(["Ran 20 tests in 1.2s", "FAILED (failures=2, errors=1)"]), (17, 3))

    def test_check_lines_are_not_go_packages(self):
        # tests/install/common.sh prints "ok   <what>" per check and "N passed, M failed" after.
        out = ["ok   C (shared): spans delivered 2 s", "ok   make install", "2 passed, 0 failed"]
        self.assertEqual(count(out), (2, 0))
        self.assertEqual(count(["ok  \tgithub.com/x/y\t(cached)"]), (1, 0))

    def test_nothing_recognised(self):
        self.assertIsNone(count(["all good", "header-check: include/honeyhive.h is up to date"]))


if __name__ == "__main__":
    unittest.main()
