//! Generated protobuf messages and tonic clients/servers for every dualreport
//! contract. No logic lives here.

/// Encoded `FileDescriptorSet` of every contract, served by gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/dualreport_descriptor.bin"));

/// Encoded `FileDescriptorSet` of `google/rpc/error_details.proto` (with
/// `google/protobuf/duration.proto`), served by reflection so that clients can
/// decode the `ErrorInfo` and `BadRequest` details of every error.
pub const ERROR_DETAILS_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/error_details_descriptor.bin"));

pub mod common {
    pub mod v1 {
        tonic::include_proto!("dualreport.common.v1");
    }
}

pub mod registry {
    pub mod v1 {
        tonic::include_proto!("dualreport.registry.v1");
    }
}

pub mod scoring {
    pub mod v1 {
        tonic::include_proto!("dualreport.scoring.v1");
        // The one period type lives in common/v1; named here too for scoring's code.
        pub use crate::common::v1::{Half, Period};
    }
}

pub mod volunteering {
    pub mod v1 {
        tonic::include_proto!("dualreport.volunteering.v1");
    }
}

pub mod feedback {
    pub mod v1 {
        tonic::include_proto!("dualreport.feedback.v1");
        pub use crate::common::v1::{Half, Period};
    }
}

pub mod city {
    pub mod v1 {
        tonic::include_proto!("dualreport.city.v1");
    }
}
