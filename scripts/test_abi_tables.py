#!/usr/bin/env python3
"""Proves `abi_tables.py --check` fails when a binding drifts from the header.

Each test copies the header and the bindings' files into a temporary tree, changes one thing
as a developer might (a status or stats field added to the header only, a C++ case removed, a
Go constant hard-coded, the generated Ruby file edited by hand) and expects the check to fail
naming it. Run: python3 scripts/test_abi_tables.py (make header-check runs it).
"""

import contextlib
import io
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import abi_tables  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


class DriftCheck(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="abi-tables-")
        self.addCleanup(shutil.rmtree, self.root)
        for path in [abi_tables.HEADER, abi_tables.RUBY, abi_tables.CPP]:
            os.makedirs(os.path.dirname(os.path.join(self.root, path)), exist_ok=True)
            shutil.copy(os.path.join(REPO, path), os.path.join(self.root, path))
        shutil.copytree(os.path.join(REPO, abi_tables.RUST_DIR),
                        os.path.join(self.root, abi_tables.RUST_DIR))
        go = os.path.join(self.root, abi_tables.GO_DIR)
        os.makedirs(go)
        for name in os.listdir(os.path.join(REPO, abi_tables.GO_DIR)):
            if name.endswith(".go"):
                shutil.copy(os.path.join(REPO, abi_tables.GO_DIR, name), go)

    def edit(self, path, old, new):
        full = os.path.join(self.root, path)
        with open(full, encoding="utf-8") as f:
            text = f.read()
        self.assertIn(old, text, f"{path} no longer contains {old!r}: update this test")
        with open(full, "w", encoding="utf-8") as f:
            f.write(text.replace(old, new, 1))

    def run_script(self, *mode):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = abi_tables.main(["--root", self.root, *mode])
        return rc, err.getvalue()

    def assert_fails(self, *expected):
        rc, err = self.run_script("--check")
        self.assertEqual(rc, 1, "the check passed on a drifted copy")
        for text in expected:
            self.assertIn(text, err)
        return err

    def test_the_repository_passes(self):
        rc, err = self.run_script("--check")
        self.assertEqual((rc, err), (0, ""))

    def test_a_status_added_to_the_header_only(self):
        self.edit(abi_tables.HEADER, "  HH_ERR_INTERNAL = 14,\n",
                  "  HH_ERR_INTERNAL = 14,\n  HH_ERR_SPANS_REJECTED = 15,\n")
        self.assert_fails(
            f"{abi_tables.RUBY}: differs from what {abi_tables.HEADER} generates",
            "describe(): missing HH_ERR_SPANS_REJECTED",
            "the status HH_ERR_SPANS_REJECTED has no C.HH_ERR_SPANS_REJECTED constant",
        )
        # Regenerating fixes Ruby; C++ and Go still need their hand-written entries.
        self.assertEqual(self.run_script("--write")[0], 0)
        err = self.assert_fails("describe(): missing HH_ERR_SPANS_REJECTED")
        self.assertNotIn(abi_tables.RUBY, err)

    def test_a_stats_field_added_to_the_header_only(self):
        self.edit(abi_tables.HEADER, "  uint64_t queue_len;\n",
                  "  uint64_t queue_len;\n  uint64_t spans_sampled_out;\n")
        self.assert_fails(
            f"{abi_tables.RUBY}: differs",
            "Stats does not read hh_stats.spans_sampled_out",
        )

    def test_a_namespace_added_to_the_header_only(self):
        self.edit(abi_tables.HEADER, "#define HH_NS_USER_PROPERTIES 7\n",
                  "#define HH_NS_USER_PROPERTIES 7\n#define HH_NS_SCORES 8\n")
        self.assert_fails(
            f"{abi_tables.RUBY}: differs",
            "enum class Namespace: missing HH_NS_SCORES",
            "the namespace HH_NS_SCORES has no C.HH_NS_SCORES constant",
        )

    def test_an_event_type_added_to_the_header_only(self):
        self.edit(abi_tables.HEADER, "#define HH_EVENT_CHAIN 3\n",
                  "#define HH_EVENT_CHAIN 3\n#define HH_EVENT_SESSION 4\n")
        self.assert_fails("enum class EventType: missing HH_EVENT_SESSION",
                          "the event type HH_EVENT_SESSION has no C.HH_EVENT_SESSION")

    def test_a_renumbered_status(self):
        self.edit(abi_tables.HEADER, "  HH_ERR_TIMEOUT = 11,", "  HH_ERR_TIMEOUT = 21,")
        self.assert_fails(f"{abi_tables.RUBY}: differs")

    def test_a_cpp_case_removed(self):
        self.edit(abi_tables.CPP, "    case HH_ERR_TIMEOUT:", "    case HH_ERR_TIMEOUT_GONE:")
        self.assert_fails("describe(): missing HH_ERR_TIMEOUT",
                          "describe(): has HH_ERR_TIMEOUT_GONE, which")

    def test_a_cpp_enrichment_key_misspelt(self):
        self.edit(abi_tables.CPP, 'return "user_properties";', 'return "userproperties";')
        self.assert_fails('enrichment_key(): missing Namespace::UserProperties -> "user_properties"')

    def test_a_go_constant_hard_coded(self):
        self.edit(os.path.join(abi_tables.GO_DIR, "errors.go"), "= C.HH_ERR_PANIC", "= 13")
        self.assert_fails("the status HH_ERR_PANIC has no C.HH_ERR_PANIC constant")

    def test_a_go_event_name_misspelt(self):
        self.edit(os.path.join(abi_tables.GO_DIR, "span.go"), 'return "chain"', 'return "chains"')
        self.assert_fails('EventType.String() should return "chain" for EventChain')

    def test_a_go_stats_field_not_read(self):
        self.edit(os.path.join(abi_tables.GO_DIR, "capi.go"), "uint64(s.rest_failures)", "0")
        self.assert_fails("Stats does not read hh_stats.rest_failures")

    def test_the_generated_ruby_edited_by_hand(self):
        self.edit(abi_tables.RUBY, "ERR_TIMEOUT          = 11", "ERR_TIMEOUT          = 12")
        self.assert_fails(f"{abi_tables.RUBY}: differs from what {abi_tables.HEADER} generates")

    def test_the_core_namespace_table_reordered(self):
        self.edit("src/enrich.rs", '("metrics", "honeyhive_metrics"),\n    ("feedback", "honeyhive_feedback"),',
                  '("feedback", "honeyhive_feedback"),\n    ("metrics", "honeyhive_metrics"),')
        self.assert_fails("src/enrich.rs: NAMESPACES lists")

    def test_a_namespace_added_to_the_header_but_not_to_the_core(self):
        self.edit(abi_tables.HEADER, "#define HH_NS_USER_PROPERTIES 7\n",
                  "#define HH_NS_USER_PROPERTIES 7\n#define HH_NS_SCORES 8\n")
        self.assert_fails("'user_properties', 'scores']")

    def test_a_core_event_type_misspelt(self):
        self.edit("src/enrich.rs", '["model", "tool", "chain"]', '["model", "tools", "chain"]')
        self.assert_fails("src/enrich.rs: EVENT_TYPES lists")

    def test_a_header_without_the_lists(self):
        self.edit(abi_tables.HEADER, "} hh_stats;", "} hh_statistics;")
        self.assert_fails("the hh_stats struct not found")


if __name__ == "__main__":
    unittest.main(verbosity=1)
