//! The address a public call comes from, for the limits that are per address (votes).
//!
//! The connection's peer, unless that peer is a trusted proxy (`--trusted-proxy`): then the
//! last address of its `x-forwarded-for`, the one the proxy itself appended. Nothing else
//! of that header is believed, since any client can write it.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};

/// The connection's remote address, over plain TCP or TLS, from a request's extensions.
pub fn remote_addr(extensions: &http::Extensions) -> Option<SocketAddr> {
    extensions
        .get::<TcpConnectInfo>()
        .and_then(TcpConnectInfo::remote_addr)
        .or_else(|| {
            extensions
                .get::<TlsConnectInfo<TcpConnectInfo>>()
                .and_then(|tls| tls.get_ref().remote_addr())
        })
}

/// The client's address, as [`address_key`] counts it; the unspecified address when the
/// transport tells none (all such calls then share one budget).
pub fn client_address<T>(request: &tonic::Request<T>, trusted: &[IpNet]) -> IpAddr {
    let peer = request
        .remote_addr()
        .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    if !trusted.iter().any(|net| net.contains(&peer)) {
        return address_key(peer);
    }
    let forwarded = request
        .metadata()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()
        .and_then(|last| last.trim().parse().ok())
        .unwrap_or(peer);
    address_key(forwarded)
}

/// What a per-address limit counts as one address: an IPv4 address (also when written as
/// IPv4-mapped IPv6), or an IPv6 /64 — the block one subscriber is given, inside which a
/// client picks a new address at will, so that counting single IPv6 addresses would bound
/// nothing.
pub fn address_key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(prefix.into())
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use tonic::transport::server::TcpConnectInfo;

    use super::*;

    fn from(peer: &str, forwarded: Option<&str>) -> tonic::Request<()> {
        let mut request = tonic::Request::new(());
        let remote: SocketAddr = peer.parse().expect("address");
        request.extensions_mut().insert(TcpConnectInfo {
            local_addr: None,
            remote_addr: Some(remote),
        });
        if let Some(f) = forwarded {
            request
                .metadata_mut()
                .insert("x-forwarded-for", f.parse().expect("ascii"));
        }
        request
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_block_and_a_mapped_ipv4_as_ipv4() {
        let trusted: Vec<IpNet> = Vec::new();
        let a = from("[2001:db8:1:2:aaaa::1]:4000", None);
        let b = from("[2001:db8:1:2:bbbb::9]:4001", None);
        let other = from("[2001:db8:1:3::1]:4000", None);
        assert_eq!(client_address(&a, &trusted), client_address(&b, &trusted));
        assert_ne!(
            client_address(&a, &trusted),
            client_address(&other, &trusted)
        );
        let mapped = from("[::ffff:192.0.2.7]:4000", None);
        assert_eq!(
            client_address(&mapped, &trusted),
            "192.0.2.7".parse::<IpAddr>().expect("ip")
        );
    }

    #[test]
    fn only_a_trusted_proxy_names_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("cidr")];
        let visitor: IpAddr = "192.0.2.7".parse().expect("ip");
        // A portal in the trusted range relays its visitor's address.
        let relayed = from("10.1.2.3:4000", Some("203.0.113.9, 192.0.2.7"));
        assert_eq!(client_address(&relayed, &trusted), visitor);
        // Anyone else's header is ignored.
        let forged = from("198.51.100.4:5000", Some("192.0.2.7"));
        assert_eq!(
            client_address(&forged, &trusted),
            "198.51.100.4".parse::<IpAddr>().expect("ip")
        );
        // A trusted proxy without the header, or with garbage, is the client itself.
        let bare = from("10.1.2.3:4000", Some("not an address"));
        assert_eq!(
            client_address(&bare, &trusted),
            "10.1.2.3".parse::<IpAddr>().expect("ip")
        );
    }
}
