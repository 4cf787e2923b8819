//! Reasoning settings across protocols (in progress).
