"""llamachat: a terminal chat client for Llama 3.1 served by hosted APIs."""

__version__ = "0.1.0"
