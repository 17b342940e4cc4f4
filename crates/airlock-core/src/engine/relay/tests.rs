//! Tests of the relay: bytes pass through unchanged with their digests, small reads are
//! gathered without splitting or reordering, a source checksum that disagrees or a short or long
//! body is refused, and a silent source is cut while a slow one or a slow consumer is not.

use super::*;
use http_body_util::BodyExt;

fn relay(
    data: &'static [u8],
    length: u64,
    gauge: &Arc<BufferGauge>,
) -> (RelayBody, Arc<RelayOutcome>) {
    let body = RelayBody::new(
        SdkBody::from(data),
        length,
        DigestPlan::default(),
        gauge.clone(),
        Duration::from_secs(5),
    );
    let outcome = body.outcome();
    (body, outcome)
}

#[tokio::test]
async fn refuses_the_end_when_the_source_checksum_disagrees() {
    use crate::plan::ChecksumAlgorithm;
    let gauge = Arc::new(BufferGauge::default());
    let (body, _) = relay(b"123456789", 9, &gauge);
    let good = body.expect(Some(Expect::Crc(
        ChecksumAlgorithm::Crc64nvme,
        0xAE8B_1486_0A79_9888,
    )));
    assert!(good.collect().await.is_ok());
    let (body, outcome) = relay(b"123456789", 9, &gauge);
    let bad = body.expect(Some(Expect::Crc(ChecksumAlgorithm::Crc64nvme, 1)));
    let err = bad.collect().await.unwrap_err();
    assert!(
        err.to_string()
            .contains("do not match the source's crc64nvme"),
        "{err}"
    );
    assert!(outcome.digests().is_none());
    assert_eq!(gauge.current(), 0);
}

#[tokio::test]
async fn passes_bytes_through_and_records_digests() {
    let gauge = Arc::new(BufferGauge::default());
    let (body, outcome) = relay(b"123456789", 9, &gauge);
    let bytes = body.collect().await.unwrap().to_bytes();
    assert_eq!(&bytes[..], b"123456789");
    let digests = outcome.digests().unwrap();
    assert_eq!(digests.crc64nvme, 0xAE8B_1486_0A79_9888);
    assert_eq!(gauge.current(), 0, "everything released once consumed");
    assert_eq!(gauge.peak(), 9);
    assert_eq!(gauge.received(), 9);
}

/// A GET body of `length` bytes that arrives in network reads of `read` bytes (the last one
/// shorter), as from a real socket.
fn in_reads(length: usize, read: usize) -> (SdkBody, Vec<u8>) {
    let all: Vec<u8> = (0..length).map(|i| (i * 7 % 251) as u8).collect();
    let frames: Vec<Result<Frame<Bytes>, std::io::Error>> = all
        .chunks(read)
        .map(|c| Ok(Frame::data(Bytes::copy_from_slice(c))))
        .collect();
    let body = http_body_util::StreamBody::new(futures::stream::iter(frames));
    (SdkBody::from_body_1_x(body), all)
}

async fn chunk_sizes(mut body: RelayBody, gauge: &BufferGauge) -> (Vec<usize>, Vec<u8>) {
    let mut sizes = Vec::new();
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let data = frame.unwrap().into_data().unwrap();
        // While the consumer has a chunk, the relay holds that chunk and at most one read
        // carried over into the next one.
        let held = gauge.current() - data.len() as u64;
        assert!(held < GATHER as u64, "{held} bytes held besides the chunk");
        sizes.push(data.len());
        out.extend_from_slice(&data);
    }
    (sizes, out)
}

fn relay_of(inner: SdkBody, length: usize, gauge: &Arc<BufferGauge>) -> RelayBody {
    RelayBody::new(
        inner,
        length as u64,
        DigestPlan::default(),
        gauge.clone(),
        Duration::from_secs(5),
    )
}

#[tokio::test]
async fn gathers_small_reads_into_large_chunks_without_changing_a_byte() {
    let gauge = Arc::new(BufferGauge::default());
    // 1 MiB + 12 KiB in 16 KiB reads: full chunks, then the tail.
    let length = (1 << 20) + 12 * 1024;
    let (inner, all) = in_reads(length, 16 * 1024);
    let body = relay_of(inner, length, &gauge);
    let outcome = body.outcome();
    let (sizes, out) = chunk_sizes(body, &gauge).await;
    assert!(out == all, "bytes changed on the way");
    let mut expected = vec![GATHER; length / GATHER];
    expected.push(length % GATHER);
    assert_eq!(sizes, expected);
    assert!(gauge.peak() <= GATHER as u64, "peak {}", gauge.peak());
    assert_eq!(gauge.current(), 0);
    assert_eq!(outcome.digests().unwrap().bytes, length as u64);
}

#[tokio::test]
async fn reads_that_straddle_the_gather_size_are_never_split_or_reordered() {
    let gauge = Arc::new(BufferGauge::default());
    // 80,000-byte reads do not divide 192 KiB: each chunk ends at a read boundary.
    let length = 1_000_000;
    let (inner, all) = in_reads(length, 80_000);
    let (sizes, out) = chunk_sizes(relay_of(inner, length, &gauge), &gauge).await;
    assert!(out == all, "bytes changed on the way");
    assert_eq!(sizes, [vec![160_000; 6], vec![40_000]].concat());
    // Larger reads than the gather size pass through whole.
    let length = 3 * (GATHER + 1000);
    let (inner, all) = in_reads(length, GATHER + 1000);
    let (sizes, out) = chunk_sizes(relay_of(inner, length, &gauge), &gauge).await;
    assert!(out == all);
    assert_eq!(sizes, vec![GATHER + 1000; 3]);
}

/// A GET body whose network reads have the given sizes, cycled until `length` bytes.
fn in_uneven_reads(length: usize, reads: &[usize]) -> (SdkBody, Vec<u8>) {
    let all: Vec<u8> = (0..length).map(|i| (i * 13 % 251) as u8).collect();
    let mut frames: Vec<Result<Frame<Bytes>, std::io::Error>> = Vec::new();
    let mut at = 0;
    for read in reads.iter().cycle() {
        if at == length {
            break;
        }
        let end = (at + read).min(length);
        frames.push(Ok(Frame::data(Bytes::copy_from_slice(&all[at..end]))));
        at = end;
    }
    let body = http_body_util::StreamBody::new(futures::stream::iter(frames));
    (SdkBody::from_body_1_x(body), all)
}

#[tokio::test]
async fn a_stream_never_holds_more_than_the_gather_size_and_one_read() {
    // hyper hands over whatever its read buffer held: reads larger than the gather size mixed
    // with smaller ones, as on a busy host. Whatever their order, one stream holds at most a
    // gathered chunk and one read, never a chunk that grew past both.
    for reads in [
        &[200_000, 300_000][..],
        &[300_000, 200_000, 200_000][..],
        &[679_936, 100_000, 200_000, 679_936, 250_000][..],
        &[GATHER - 1, 2, GATHER + 1][..],
    ] {
        let gauge = Arc::new(BufferGauge::default());
        let length = 6 << 20;
        let largest = *reads.iter().max().unwrap();
        let (inner, all) = in_uneven_reads(length, reads);
        let mut body = relay_of(inner, length, &gauge);
        let mut out = Vec::new();
        while let Some(frame) = body.frame().await {
            let data = frame.unwrap().into_data().unwrap();
            assert!(
                data.len() <= GATHER.max(largest),
                "{reads:?}: a chunk of {} bytes",
                data.len()
            );
            out.extend_from_slice(&data);
        }
        assert!(out == all, "{reads:?}: bytes changed on the way");
        let bound = (GATHER + largest) as u64;
        assert!(
            gauge.peak() <= bound,
            "{reads:?}: peak {} above {bound}",
            gauge.peak()
        );
        assert!(
            bound <= crate::plan::STREAM_BUFFER.0,
            "a stream's worst case fits its share of the memory limit"
        );
        assert_eq!(gauge.current(), 0);
    }
}

#[tokio::test]
async fn a_source_failing_mid_gather_releases_what_was_gathered() {
    let gauge = Arc::new(BufferGauge::default());
    let frames: Vec<Result<Frame<Bytes>, std::io::Error>> = vec![
        Ok(Frame::data(Bytes::from(vec![1u8; 4096]))),
        Ok(Frame::data(Bytes::from(vec![2u8; 4096]))),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "reset by peer",
        )),
    ];
    let inner = SdkBody::from_body_1_x(http_body_util::StreamBody::new(futures::stream::iter(
        frames,
    )));
    let body = relay_of(inner, 1 << 20, &gauge);
    let outcome = body.outcome();
    let err = body.collect().await.unwrap_err();
    assert!(err.to_string().contains("reset by peer"), "{err}");
    assert!(outcome.source_error().is_some());
    assert_eq!(gauge.current(), 0, "gathered bytes released");
    assert_eq!(gauge.peak(), 8192);
}

/// A source that sends `chunks` reads of `size` bytes `gap` apart, then (if `then_silent`)
/// nothing more.
fn paced(chunks: usize, size: usize, gap: Duration, then_silent: bool) -> SdkBody {
    use futures::StreamExt;
    let sent = futures::stream::iter(0..chunks).then(move |i| async move {
        if i > 0 {
            tokio::time::sleep(gap).await;
        }
        Ok::<_, std::io::Error>(Frame::data(Bytes::from(vec![i as u8; size])))
    });
    let silence = futures::stream::pending();
    if then_silent {
        SdkBody::from_body_1_x(http_body_util::StreamBody::new(sent.chain(silence)))
    } else {
        SdkBody::from_body_1_x(http_body_util::StreamBody::new(sent))
    }
}

fn with_timeout(inner: SdkBody, length: u64, gauge: &Arc<BufferGauge>) -> RelayBody {
    RelayBody::new(
        inner,
        length,
        DigestPlan::default(),
        gauge.clone(),
        Duration::from_millis(300),
    )
}

#[tokio::test]
async fn a_silent_source_is_cut_after_the_read_timeout() {
    let gauge = Arc::new(BufferGauge::default());
    let body = with_timeout(
        paced(2, 1000, Duration::from_millis(10), true),
        10_000,
        &gauge,
    );
    let started = std::time::Instant::now();
    let err = body.collect().await.unwrap_err();
    assert!(err.to_string().contains("stalled"), "{err}");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300),
        "cut too early: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(10),
        "cut far too late: {waited:?}"
    );
    assert_eq!(gauge.current(), 0);
}

#[tokio::test]
async fn a_source_that_keeps_sending_is_never_cut_however_long_it_takes() {
    let gauge = Arc::new(BufferGauge::default());
    // 12 reads 100 ms apart: 1.1 s in all, far past the 300 ms read timeout.
    let body = with_timeout(
        paced(12, 1000, Duration::from_millis(100), false),
        12_000,
        &gauge,
    );
    let bytes = body.collect().await.unwrap().to_bytes();
    assert_eq!(bytes.len(), 12_000);
}

#[tokio::test]
async fn a_slow_consumer_is_not_blamed_on_the_source() {
    let gauge = Arc::new(BufferGauge::default());
    // Each read is larger than the gather size, so each is handed on at once; the source
    // answers each request for more after 20 ms.
    let length = 3 * (GATHER + 1);
    let inner = paced(3, GATHER + 1, Duration::from_millis(20), false);
    let mut body = with_timeout(inner, length as u64, &gauge);
    let mut got = 0;
    while let Some(frame) = body.frame().await {
        got += frame.unwrap().into_data().unwrap().len();
        // The target takes longer than the read timeout to take each chunk.
        tokio::time::sleep(Duration::from_millis(450)).await;
    }
    assert_eq!(got, length);
}

#[tokio::test]
async fn refuses_a_short_body() {
    let gauge = Arc::new(BufferGauge::default());
    let (body, outcome) = relay(b"1234", 9, &gauge);
    let err = body.collect().await.unwrap_err();
    assert!(err.to_string().contains("ended 5 bytes early"), "{err}");
    assert!(outcome.digests().is_none());
    assert!(outcome.source_error().unwrap().contains("truncated"));
}

#[tokio::test]
async fn refuses_a_long_body() {
    let gauge = Arc::new(BufferGauge::default());
    let (body, _) = relay(b"123456789", 4, &gauge);
    let err = body.collect().await.unwrap_err();
    assert!(err.to_string().contains("5 bytes more"), "{err}");
}

#[tokio::test]
async fn zero_byte_bodies_finish_with_digests() {
    let gauge = Arc::new(BufferGauge::default());
    let (body, outcome) = relay(b"", 0, &gauge);
    assert!(body.collect().await.unwrap().to_bytes().is_empty());
    assert_eq!(outcome.digests().unwrap().bytes, 0);
}
