//! Public reads: GetLocationResults (a location's published figures and 12-month history)
//! against the bare server returning the same message.

use std::sync::Arc;
use std::time::Duration;

use boucle::domain::Period;
use boucle::pb;
use boucle::pb::results_service_client::ResultsServiceClient;

use crate::db::{Target, open};
use crate::load::{self, Measured};
use crate::servers;

pub struct Outcome {
    pub target: &'static str,
    pub levels: Vec<(Measured, Measured)>,
    pub answer_bytes: usize,
}

async fn get(
    codes: Arc<Vec<String>>,
    channel: tonic::transport::Channel,
    stream: usize,
    seq: u64,
) -> Result<(), tonic::Status> {
    let code = codes[(stream * 31 + seq as usize) % codes.len()].clone();
    ResultsServiceClient::new(channel)
        .get_location_results(pb::GetLocationResultsRequest {
            location_code: code,
            period: String::new(),
            ..Default::default()
        })
        .await
        .map(|_| ())
}

pub async fn run(
    target: &Target,
    levels: &[usize],
    warmup: Duration,
    measure: Duration,
) -> anyhow::Result<Outcome> {
    let settings = target.database("boucle_bench_reads", true).await?;
    let store = open(&settings).await?;
    let tz = chrono_tz::Europe::Paris;
    boucle::demo::seed(
        &store,
        boucle::demo::DEFAULT_SEED,
        tz,
        boucle::store::now_ms(),
    )
    .await?;
    // Twelve aggregated months, as a portal finds them.
    let mut period = Period::containing(boucle::store::now_ms(), tz);
    for _ in 0..12 {
        period = period.previous();
        let run = store
            .start_job_run(&period.to_string(), "aggregate", "bench")
            .await?;
        boucle_jobs::aggregate::aggregate(&store, period, tz, None, run, &mut |_, _| Ok(()))
            .await?;
        store.finish_job_run(run, None).await?;
    }
    let codes = boucle::store::locations::all_codes(store.connection()).await?;
    store.close().await?;
    let codes = Arc::new(codes);

    let boucle = servers::boucle(settings)?;
    let sample = ResultsServiceClient::new(load::connect(boucle.addr, 1).await?.remove(0))
        .get_location_results(pb::GetLocationResultsRequest {
            location_code: codes[0].clone(),
            period: String::new(),
            ..Default::default()
        })
        .await?
        .into_inner();
    let answer_bytes = prost::Message::encoded_len(&sample);
    let mut runs = Vec::new();
    for &streams in levels {
        let c = codes.clone();
        let channels = load::connect(boucle.addr, streams).await?;
        runs.push(
            load::run(channels, streams, warmup, measure, move |ch, s, q| {
                get(c.clone(), ch, s, q)
            })
            .await,
        );
    }
    drop(boucle);
    let bare = servers::bare(crate::bare::BareResults {
        answer: sample,
        ..Default::default()
    })?;
    let mut out = Vec::new();
    for (streams, measured) in levels.iter().zip(runs) {
        let c = codes.clone();
        let channels = load::connect(bare.addr, *streams).await?;
        let baseline = load::run(channels, *streams, warmup, measure, move |ch, s, q| {
            get(c.clone(), ch, s, q)
        })
        .await;
        out.push((measured, baseline));
    }
    Ok(Outcome {
        target: target.label(),
        levels: out,
        answer_bytes,
    })
}

/// What a portal asks of SearchLocations, in turn: words, a postal code, a département,
/// a network's sites by word, and a point with a 10 km radius (the generated locations are
/// spread uniformly over mainland France's box).
fn search_request(stream: usize, seq: u64, networks: usize) -> pb::SearchLocationsRequest {
    let n = (stream as u64)
        .wrapping_mul(7_919)
        .wrapping_add(seq.wrapping_mul(104_729));
    let point = |n: u64| {
        (
            42.5 + (n % 8_500) as f64 / 1_000.0,
            -4.5 + ((n / 8_500) % 12_500) as f64 / 1_000.0,
        )
    };
    match seq % 5 {
        0 => pb::SearchLocationsRequest {
            query: format!("accueil s{:04}", n % 2_000),
            ..Default::default()
        },
        1 => pb::SearchLocationsRequest {
            postal_code: format!("{:05}", 1_000 + n % 95_000),
            ..Default::default()
        },
        2 => pb::SearchLocationsRequest {
            departement: format!("{:02}", 1 + n % 19),
            ..Default::default()
        },
        3 => pb::SearchLocationsRequest {
            query: "direction departementale".into(),
            network_code: format!("N{:02}", n % networks.max(1) as u64),
            ..Default::default()
        },
        _ => {
            let (latitude, longitude) = point(n);
            pb::SearchLocationsRequest {
                latitude: Some(latitude),
                longitude: Some(longitude),
                radius_km: Some(10.0),
                ..Default::default()
            }
        }
    }
}

pub struct SearchOutcome {
    pub target: &'static str,
    pub locations: usize,
    pub levels: Vec<(Measured, Measured)>,
    pub answer_bytes: usize,
    /// The share of each level's searches (warm-up included) answered from the public cache.
    pub cache_hits: Vec<f64>,
}

/// The public cache's search hits and misses so far (the server runs in this process).
fn search_cache_counts() -> (u64, u64) {
    let count = |result| {
        boucle::metrics::metrics()
            .public_cache
            .get_or_create(&boucle::metrics::CacheLabel {
                answer: "search",
                result,
            })
            .get()
    };
    (count("hit"), count("miss"))
}

/// SearchLocations at `locations` locations (the aggregation data set's hierarchy, one
/// month aggregated so that hits carry figures), against the bare server answering a
/// captured page of 20 hits.
pub async fn search(
    target: &Target,
    locations: usize,
    levels: &[usize],
    warmup: Duration,
    measure: Duration,
) -> anyhow::Result<SearchOutcome> {
    let settings = crate::aggregate::ensure_aggregated(target, 200_000, locations, 3).await?;
    let networks = (locations / 2_500).max(1);

    let boucle = servers::boucle(settings)?;
    let mut client = ResultsServiceClient::new(load::connect(boucle.addr, 1).await?.remove(0));
    // The bare server answers with the fullest page boucle gives for these searches.
    let mut sample = pb::SearchLocationsResponse::default();
    for seq in 0..5 {
        let page = client
            .search_locations(search_request(0, seq, networks))
            .await?
            .into_inner();
        if page.hits.len() > sample.hits.len() {
            sample = page;
        }
    }
    let answer_bytes = prost::Message::encoded_len(&sample);
    let call = move |channel, stream, seq| async move {
        ResultsServiceClient::new(channel)
            .search_locations(search_request(stream, seq, networks))
            .await
            .map(|_| ())
    };
    let mut runs = Vec::new();
    let mut cache_hits = Vec::new();
    for &streams in levels {
        let channels = load::connect(boucle.addr, streams).await?;
        let (hits, misses) = search_cache_counts();
        runs.push(load::run(channels, streams, warmup, measure, call).await);
        let (hits, misses) = {
            let now = search_cache_counts();
            (now.0 - hits, now.1 - misses)
        };
        cache_hits.push(hits as f64 / (hits + misses).max(1) as f64);
    }
    drop(boucle);
    let bare = servers::bare(crate::bare::BareResults {
        search: sample,
        ..Default::default()
    })?;
    let mut out = Vec::new();
    for (streams, measured) in levels.iter().zip(runs) {
        let channels = load::connect(bare.addr, *streams).await?;
        let baseline = load::run(channels, *streams, warmup, measure, call).await;
        out.push((measured, baseline));
    }
    Ok(SearchOutcome {
        target: target.label(),
        locations,
        levels: out,
        answer_bytes,
        cache_hits,
    })
}
