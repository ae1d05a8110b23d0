"""The context window: how big it is, what a request will use, and what to do when it is full.

Core code (no Textual): ``policy`` names the overflow policies and the rules a request is
sent under; ``tokens`` estimates token counts where a server reports none; ``window``
reads a model's window from config, presets, a server's listing or an error sentence;
``fit`` chooses the newest turns that fit; ``summary`` writes a summary branch;
``settings`` turns the config and ``--context-overflow`` into rules; ``apply`` runs the
policy for one request; ``meter`` says how full the next request will be.
"""
