//! Ingest: sustained SubmitFeedback at several concurrency levels, boucle (durable commits)
//! against the bare server answering the same message.

use std::sync::Arc;
use std::time::Duration;

use boucle::domain::Role;
use boucle::pb;
use boucle::pb::feedback_service_client::FeedbackServiceClient;
use rand::SeedableRng;
use rand::rngs::StdRng;
use secrecy::ExposeSecret;
use tonic::metadata::AsciiMetadataValue;

use boucle::store::{DatabaseSettings, Store};

use crate::db::{Target, open};
use crate::generate::{Hierarchy, Texts, request};
use crate::load::{self, Measured};
use crate::servers;

pub struct Settings {
    pub levels: Vec<usize>,
    pub warmup: Duration,
    pub measure: Duration,
    pub seed: u64,
}

pub struct Outcome {
    pub target: &'static str,
    pub levels: Vec<(Measured, Measured)>,
    /// Rows counted in the database after the run, and acknowledged submissions.
    pub stored: u64,
    pub acknowledged: u64,
}

struct Pool {
    requests: Vec<pb::SubmitFeedbackRequest>,
    keys: Vec<AsciiMetadataValue>,
}

async fn submit(
    pool: Arc<Pool>,
    channel: tonic::transport::Channel,
    tag: String,
    stream: usize,
    seq: u64,
) -> Result<(), tonic::Status> {
    let mut message = pool.requests[(stream * 7_919 + seq as usize) % pool.requests.len()].clone();
    message.request_id = format!("{tag}-{stream}-{seq}");
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", pool.keys[stream % pool.keys.len()].clone());
    FeedbackServiceClient::new(channel)
        .submit_feedback(request)
        .await
        .map(|_| ())
}

async fn level(
    addr: std::net::SocketAddr,
    pool: &Arc<Pool>,
    tag: &str,
    streams: usize,
    s: &Settings,
) -> anyhow::Result<Measured> {
    let channels = load::connect(addr, streams).await?;
    let pool = pool.clone();
    let tag = tag.to_owned();
    Ok(load::run(
        channels,
        streams,
        s.warmup,
        s.measure,
        move |channel, stream, seq| submit(pool.clone(), channel, tag.clone(), stream, seq),
    )
    .await)
}

/// A fresh ingest database (2,000 locations, four collector keys) and the submissions the
/// streams send.
async fn prepare(
    target: &Target,
    s: &Settings,
) -> anyhow::Result<(DatabaseSettings, Store, Arc<Pool>)> {
    let settings = target.database("boucle_bench_ingest", true).await?;
    let store = open(&settings).await?;
    let hierarchy = Hierarchy::new(2_000, s.seed);
    store.bulk_insert_locations(&hierarchy.locations).await?;
    let mut keys = Vec::new();
    for i in 0..4 {
        let (_, secret) = boucle::app::keys::create(
            &store,
            None,
            &format!("bench collector {i}"),
            Role::Collector,
            None,
        )
        .await?;
        keys.push(format!("Bearer {}", secret.secret.expose_secret()).parse()?);
    }
    let texts = Texts::new();
    let mut rng = StdRng::seed_from_u64(s.seed);
    let requests = (0..4_096)
        .map(|_| {
            let site = &hierarchy.sites[hierarchy.site(&mut rng)].1;
            request(&mut rng, &texts, site, String::new())
        })
        .collect();
    let pool = Arc::new(Pool { requests, keys });
    Ok((settings, store, pool))
}

pub async fn run(target: &Target, s: &Settings) -> anyhow::Result<Outcome> {
    let (settings, store, pool) = prepare(target, s).await?;
    let mut levels = Vec::new();
    let boucle = servers::boucle(settings.clone())?;
    let mut boucle_runs = Vec::new();
    for &streams in &s.levels {
        boucle_runs.push(level(boucle.addr, &pool, &format!("b{streams}"), streams, s).await?);
    }
    drop(boucle);
    let bare = servers::bare(Default::default())?;
    for (streams, measured) in s.levels.iter().zip(boucle_runs) {
        let baseline = level(bare.addr, &pool, "bare", *streams, s).await?;
        levels.push((measured, baseline));
    }
    drop(bare);

    // Honesty check: every acknowledged submission is in the database.
    let stored = boucle::store::feedback::count(store.connection()).await?;
    let acknowledged = levels.iter().map(|(m, _)| m.acknowledged).sum();
    store.close().await?;
    Ok(Outcome {
        target: target.label(),
        levels,
        stored,
        acknowledged,
    })
}

/// The cost of observing every call (access line, request id, metrics): the same load on
/// boucle with and without it, in alternated pairs on one database.
pub struct Observation {
    pub target: &'static str,
    pub streams: usize,
    /// (observed, unobserved), pair by pair.
    pub pairs: Vec<(Measured, Measured)>,
}

pub async fn observation(
    target: &Target,
    streams: usize,
    pairs: usize,
    s: &Settings,
) -> anyhow::Result<Observation> {
    let (settings, store, pool) = prepare(target, s).await?;
    let mut measured = Vec::new();
    for pair in 0..pairs {
        let run = async |observe: bool| -> anyhow::Result<Measured> {
            let server = servers::boucle_observed(settings.clone(), observe)?;
            let tag = format!("o{pair}{}", if observe { "on" } else { "off" });
            level(server.addr, &pool, &tag, streams, s).await
        };
        // Alternate which goes first, so that a drift of the machine favours neither.
        let (on, off) = if pair % 2 == 0 {
            let on = run(true).await?;
            (on, run(false).await?)
        } else {
            let off = run(false).await?;
            (run(true).await?, off)
        };
        measured.push((on, off));
    }
    store.close().await?;
    Ok(Observation {
        target: target.label(),
        streams,
        pairs: measured,
    })
}
