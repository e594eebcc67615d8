//! Decoders: provider streams, framed as SSE events and read as items.
pub mod providers;
pub mod sse;
