//! Where evidence photos live: a local directory by default
//! (`evidence.store = "file://data/evidence"`), S3-compatible object storage
//! in production (`s3://bucket/prefix`, credentials and endpoint from the
//! standard `AWS_*` environment, as in every S3 tool). Objects are named by
//! community and content hash, so the same photo uploaded twice is stored once.

use std::sync::Arc;

use bytes::Bytes;
use object_store::ObjectStore;
use object_store::path::Path;

use crate::domain::{Result, VolunteeringError};
use crate::settings::EvidenceSettings;

#[derive(Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// For logs and errors: where the store is.
    location: String,
}

impl BlobStore {
    pub fn from_settings(settings: &EvidenceSettings) -> anyhow::Result<Self> {
        let url = settings.store.as_str();
        let store: Arc<dyn ObjectStore> = if let Some(dir) = url.strip_prefix("file://") {
            std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("evidence.store {url}: {e}"))?;
            Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir)?)
        } else if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            anyhow::ensure!(!bucket.is_empty(), "evidence.store {url}: no bucket named");
            let mut builder = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
            if !settings.s3_endpoint.is_empty() {
                builder = builder
                    .with_endpoint(&settings.s3_endpoint)
                    .with_allow_http(settings.s3_endpoint.starts_with("http://"));
            }
            if !settings.s3_region.is_empty() {
                builder = builder.with_region(&settings.s3_region);
            }
            let s3 = builder.build()?;
            if prefix.trim_matches('/').is_empty() {
                Arc::new(s3)
            } else {
                Arc::new(object_store::prefix::PrefixStore::new(s3, prefix.trim_matches('/')))
            }
        } else {
            anyhow::bail!("evidence.store must start with file:// or s3://, not {url:?}");
        };
        Ok(Self {
            store,
            location: url.to_owned(),
        })
    }

    /// Stores `data` under `key` (overwriting the same content is harmless).
    pub async fn put(&self, key: &str, data: Bytes) -> Result<()> {
        self.store
            .put(&Path::from(key), data.into())
            .await
            .map_err(|e| self.unavailable("store", e))?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> Result<Bytes> {
        let object = self
            .store
            .get(&Path::from(key))
            .await
            .map_err(|e| self.unavailable("read", e))?;
        object.bytes().await.map_err(|e| self.unavailable("read", e))
    }

    fn unavailable(&self, what: &str, error: object_store::Error) -> VolunteeringError {
        tracing::warn!(store = %self.location, error = %error, "blob store failed");
        VolunteeringError::Unavailable(format!("the evidence store could not {what} the object; retry"))
    }
}
