//! Root qdiscs through rtnetlink: tbf (a rate limit) and netem (delay, jitter, loss).
//! rtnetlink has no builders for their options, so the option structs are laid out here
//! as the kernel's uapi headers define them (pkt_sched.h).

use futures::StreamExt;
use rtnetlink::packet_core::{
    DefaultNla, NetlinkMessage, NLM_F_ACK, NLM_F_CREATE, NLM_F_REPLACE, NLM_F_REQUEST,
};
use rtnetlink::packet_route::tc::{TcAttribute, TcHandle, TcMessage, TcOption};
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::Handle;

use crate::lab::op::Qdisc;

const TCA_OPTIONS: u16 = 2;
const TCA_TBF_PARMS: u16 = 1;
const TCA_TBF_RATE64: u16 = 4;
const TCA_TBF_BURST: u16 = 6;
const TCA_NETEM_LATENCY64: u16 = 10;
const TCA_NETEM_JITTER64: u16 = 11;
const TC_LINKLAYER_ETHERNET: u8 = 1;

/// struct tc_ratespec: cell_log, linklayer, overhead, cell_align, mpu, rate (bytes/s).
fn ratespec(bytes_per_sec: u64) -> Vec<u8> {
    let mut v = vec![0u8, TC_LINKLAYER_ETHERNET];
    v.extend_from_slice(&0u16.to_ne_bytes());
    v.extend_from_slice(&0i16.to_ne_bytes());
    v.extend_from_slice(&0u16.to_ne_bytes());
    v.extend_from_slice(&(bytes_per_sec.min(u32::MAX as u64) as u32).to_ne_bytes());
    v
}

fn nla(kind: u16, value: Vec<u8>) -> Vec<u8> {
    let len = 4 + value.len();
    let mut v = (len as u16).to_ne_bytes().to_vec();
    v.extend_from_slice(&kind.to_ne_bytes());
    v.extend_from_slice(&value);
    v.resize(len.div_ceil(4) * 4, 0);
    v
}

fn message(index: u32, qdisc: &Qdisc) -> TcMessage {
    let mut m = TcMessage::with_index(index as i32);
    m.header.parent = TcHandle::ROOT;
    match qdisc {
        Qdisc::Tbf { rate_kbit } => {
            let rate = rate_kbit * 1000 / 8;
            let burst = Qdisc::tbf_burst(*rate_kbit);
            // Queue up to 50 ms of traffic beyond the burst.
            let limit = (rate / 20) as u32 + burst;
            // struct tc_tbf_qopt: rate, peakrate, limit, buffer, mtu (the kernel derives
            // the buffer from TCA_TBF_BURST).
            let mut parms = ratespec(rate);
            parms.extend(vec![0u8; 12]);
            for x in [limit, 0, 0] {
                parms.extend_from_slice(&x.to_ne_bytes());
            }
            m.attributes.push(TcAttribute::Kind("tbf".into()));
            let mut opts = vec![
                TcOption::Other(DefaultNla::new(TCA_TBF_PARMS, parms)),
                TcOption::Other(DefaultNla::new(TCA_TBF_BURST, burst.to_ne_bytes().to_vec())),
            ];
            if rate > u32::MAX as u64 {
                opts.push(TcOption::Other(DefaultNla::new(
                    TCA_TBF_RATE64,
                    rate.to_ne_bytes().to_vec(),
                )));
            }
            m.attributes.push(TcAttribute::Options(opts));
        }
        Qdisc::Netem {
            delay_ms,
            jitter_ms,
            loss_pct,
        } => {
            // netem's options are a struct tc_netem_qopt followed by attributes, not
            // nested attributes alone: sent raw.
            let loss = ((*loss_pct as u64 * u32::MAX as u64) / 100) as u32;
            let mut raw = vec![];
            for x in [0u32, 1000, loss, 0, 0, 0] {
                raw.extend_from_slice(&x.to_ne_bytes());
            }
            raw.extend(nla(
                TCA_NETEM_LATENCY64,
                (*delay_ms as i64 * 1_000_000).to_ne_bytes().to_vec(),
            ));
            raw.extend(nla(
                TCA_NETEM_JITTER64,
                (*jitter_ms as i64 * 1_000_000).to_ne_bytes().to_vec(),
            ));
            m.attributes.push(TcAttribute::Kind("netem".into()));
            m.attributes
                .push(TcAttribute::Other(DefaultNla::new(TCA_OPTIONS, raw)));
        }
    }
    m
}

async fn send(mut h: Handle, msg: RouteNetlinkMessage, flags: u16) -> Result<(), rtnetlink::Error> {
    let mut req = NetlinkMessage::from(msg);
    req.header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    let mut resp = h.request(req)?;
    while let Some(m) = resp.next().await {
        if let rtnetlink::packet_core::NetlinkPayload::Error(e) = m.payload {
            if e.code.is_some() {
                return Err(rtnetlink::Error::NetlinkError(e));
            }
        }
    }
    Ok(())
}

/// `tc qdisc replace dev DEV root ...`
pub async fn replace(h: &Handle, index: u32, qdisc: &Qdisc) -> Result<(), rtnetlink::Error> {
    let msg = RouteNetlinkMessage::NewQueueDiscipline(message(index, qdisc));
    send(h.clone(), msg, NLM_F_CREATE | NLM_F_REPLACE).await
}

/// `tc qdisc del dev DEV root`
pub async fn delete(h: &Handle, index: u32) -> Result<(), rtnetlink::Error> {
    let mut m = TcMessage::with_index(index as i32);
    m.header.parent = TcHandle::ROOT;
    send(h.clone(), RouteNetlinkMessage::DelQueueDiscipline(m), 0).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tbf_parameters_are_36_bytes() {
        let m = message(3, &Qdisc::Tbf { rate_kbit: 8000 });
        let TcAttribute::Options(opts) = &m.attributes[1] else {
            panic!("{m:?}")
        };
        let TcOption::Other(parms) = &opts[0] else {
            panic!()
        };
        let mut buf = vec![0u8; rtnetlink::packet_core::Nla::value_len(parms)];
        rtnetlink::packet_core::Nla::emit_value(parms, &mut buf);
        assert_eq!(buf.len(), 36);
        // rate: 8000 kbit/s = 1_000_000 bytes/s, at offset 8 of the first tc_ratespec.
        assert_eq!(
            u32::from_ne_bytes(buf[8..12].try_into().unwrap()),
            1_000_000
        );
        assert_eq!(buf[1], TC_LINKLAYER_ETHERNET);
    }

    #[test]
    fn nested_attributes_are_padded() {
        assert_eq!(nla(10, vec![1, 2, 3]).len(), 8);
        assert_eq!(nla(10, 5i64.to_ne_bytes().to_vec()).len(), 12);
    }
}
