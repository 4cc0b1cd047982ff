use prost_types::Timestamp;

/// Epoch milliseconds to a protobuf timestamp.
pub fn timestamp(ms: i64) -> Timestamp {
    Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
    }
}

/// A protobuf timestamp to epoch milliseconds (sub-millisecond precision is dropped).
pub fn from_timestamp(ts: &Timestamp) -> Result<i64, String> {
    if !(0..1_000_000_000).contains(&ts.nanos) {
        return Err("nanos must be between 0 and 999,999,999".into());
    }
    ts.seconds
        .checked_mul(1000)
        .and_then(|ms| ms.checked_add(i64::from(ts.nanos / 1_000_000)))
        .ok_or_else(|| "is out of range".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_including_before_epoch() {
        for ms in [0, 1, 999, 1_795_305_600_123, -1, -1001] {
            assert_eq!(from_timestamp(&timestamp(ms)), Ok(ms));
        }
    }
}
