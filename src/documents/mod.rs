//! Documents: receiving uploads, deciding their type from the bytes,
//! cleaning client filenames, and storing the bytes on disk.

pub mod filename;
pub mod sniff;
pub mod storage;
pub mod upload;
