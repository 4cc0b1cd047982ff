//! The wire types of `boucle.v1` (generated from `proto/`) and their conversions to and from
//! the domain. Conversions destructure every proto field, so that adding a field to a
//! message breaks the build until it is handled here.

#[allow(clippy::all, clippy::pedantic, missing_docs)]
mod generated {
    tonic::include_proto!("boucle.v1");
}

pub use generated::*;

pub mod convert;
pub mod status;

/// The file descriptor set served by gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("boucle_descriptor");
/// `google/protobuf/duration.proto` and `any.proto`, which the google.rpc error details
/// import: served by reflection beside them.
pub const WELL_KNOWN_DESCRIPTOR_SET: &[u8] =
    tonic::include_file_descriptor_set!("well_known_descriptor");
