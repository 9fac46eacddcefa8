"""The paper's protocol (accuracy against label fraction), ablations, and reports."""
