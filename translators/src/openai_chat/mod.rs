//! openai_chat: wire types and the IR codecs (in progress).
