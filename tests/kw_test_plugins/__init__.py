"""Test plugins proving each plugin kind is wired without editing the graph builder."""
