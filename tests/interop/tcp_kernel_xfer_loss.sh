#!/bin/bash
# tcp_kernel_xfer.sh with shunt's fault injector dropping 5 % of the frames
# shunt receives and 5 % of those it sends: 100 MB each way (XFER_MB),
# sha256 equal, retransmissions and SACK blocks seen.  The seed is printed,
# XFER_FAULTS overrides the whole specification.
#
# The sending shunt client runs with --rto-min-ms 20.  The tap's RTT is about
# 0.5 ms and shunt's TCP has no tail loss probe yet (RFC 8985), so a lost
# last segment, a lost retransmission or a lost stretch ACK ending a flight
# waits for the retransmission timer; at Linux's floor of 200 ms that alone
# held shunt -> kernel at about 0.5 MB/s under 5 % loss each way (over three
# minutes for 100 MB).  XFER_CLIENT_OPTS= (empty) restores the default.
seed=${XFER_SEED:-$(date +%s)}
echo "fault seed $seed"
export XFER_FAULTS=${XFER_FAULTS:-loss=5%,seed=$seed}
export XFER_CLIENT_OPTS=${XFER_CLIENT_OPTS---rto-min-ms 20}
exec "$(dirname "$0")/tcp_kernel_xfer.sh"
