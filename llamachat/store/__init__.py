"""The local conversation database (SQLite), its domain objects and exports."""

from llamachat.store.db import Store, StoreError
from llamachat.store.models import Conversation, ConversationView, Message, MessageStatus

__all__ = ["Conversation", "ConversationView", "Message", "MessageStatus", "Store", "StoreError"]
