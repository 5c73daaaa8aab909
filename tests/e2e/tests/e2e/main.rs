//! End-to-end: the four service binaries as real processes, driven only
//! through their public gRPC APIs (`e2e::Suite`).

mod city;
mod migrations;
mod portal;
mod rollout;
mod six_steps;
mod traces;
