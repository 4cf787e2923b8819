//! openai_responses: wire types and the IR codecs (in progress).
