"""Modal screens: picker, settings, help, export, confirmations."""
