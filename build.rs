//! Compiles `proto/boucle/v1/*.proto` into Rust (prost + tonic) and writes the file
//! descriptor set served by gRPC reflection.
//!
//! protoc comes from the `protoc-bin-vendored` crate so that a fresh machine needs nothing
//! beyond the Rust toolchain.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let include = protoc_bin_vendored::include_path()?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    let mut protos: Vec<PathBuf> = std::fs::read_dir("proto/boucle/v1")?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "proto"))
        .collect();
    protos.sort();

    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc);

    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("boucle_descriptor.bin"))
        .compile_with_config(config, &protos, &[PathBuf::from("proto"), include.clone()])?;

    // The well-known types the google.rpc error details import (tonic-types describes
    // error_details.proto and status.proto, not their imports), so that reflection serves
    // every file a client needs to decode them.
    let status = std::process::Command::new(protoc_bin_vendored::protoc_bin_path()?)
        .arg("--include_imports")
        .arg(format!(
            "--descriptor_set_out={}",
            out_dir.join("well_known_descriptor.bin").display()
        ))
        .arg(format!("--proto_path={}", include.display()))
        .args([
            "google/protobuf/duration.proto",
            "google/protobuf/any.proto",
        ])
        .status()?;
    if !status.success() {
        return Err(format!("protoc failed on the well-known types: {status}").into());
    }

    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
