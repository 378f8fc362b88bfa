//! [`MemoryMappedFile`] and the types that come with it: its modes, builder, views and
//! reader.

pub use crate::map::{MemoryMappedFile, MemoryMappedFileBuilder, MmapMode, TouchHint};
pub use crate::reader::MmapReader;
pub use crate::slice::{MappedSlice, MappedSliceMut};
