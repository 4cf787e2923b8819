//! anthropic: wire types and the IR codecs (in progress).
