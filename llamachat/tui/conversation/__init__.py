"""One conversation on screen: its pane, the list of its messages, each message, the prompt."""
