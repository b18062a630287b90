#!/bin/bash
# Unmodified redis-server under shunt passes bounded redis-benchmark runs from
# the kernel (pipelined -P 16 and not) with no errors; then redis-cli and
# redis-benchmark under shunt against a kernel redis-server.
. "$(dirname "$0")/lib.bash"
command -v redis-server >/dev/null || pl_skip "redis not installed"
pl_setup

pl_bg srv pl_shunt redis-server --bind $SIP --port 6379 --save "" --appendonly no --protected-mode no \
    --dir "$PL_TMP" --daemonize no
pl_wait_connect $SIP 6379 150 || pl_fail "redis under shunt does not answer"
for pipe in 1 16; do
	pl_kernel timeout 60 redis-benchmark -h $SIP -p 6379 -n 20000 -c 16 -P $pipe -t set,get,incr,lpush,lpop \
	    -d 64 -q > "$PL_TMP/bench$pipe.txt" 2>&1 || pl_fail "redis-benchmark -P $pipe failed: $(tail -5 "$PL_TMP/bench$pipe.txt")"
	cat "$PL_TMP/bench$pipe.txt"
	grep -qi "error" "$PL_TMP/bench$pipe.txt" && pl_fail "redis-benchmark -P $pipe reported errors"
	n=$(grep -c "requests per second" "$PL_TMP/bench$pipe.txt")
	[ "$n" = 5 ] || pl_fail "redis-benchmark -P $pipe: $n of 5 tests finished"
done
# The data is really there.
pl_kernel redis-cli -h $SIP -p 6379 set shunt:key "value over shunt" >/dev/null
v=$(pl_kernel redis-cli -h $SIP -p 6379 get shunt:key)
[ "$v" = "value over shunt" ] || pl_fail "get returned '$v'"
echo "ok: redis-server under shunt served redis-benchmark with and without pipelining"

# The other way round: a kernel redis, clients under shunt.
pl_bg ksrv pl_kernel redis-server --bind $KIP --port 6380 --save "" --appendonly no --protected-mode no \
    --dir "$PL_TMP" --daemonize no
pl_wait_port 6380 || pl_fail "kernel redis did not start"
v=$(pl_shunt timeout 20 redis-cli -h $KIP -p 6380 ping) || pl_fail "redis-cli under shunt failed"
[ "$v" = "PONG" ] || pl_fail "redis-cli ping: '$v'"
pl_shunt timeout 20 redis-cli -h $KIP -p 6380 set k2 v2 >/dev/null
v=$(pl_kernel redis-cli -h $KIP -p 6380 get k2)
[ "$v" = "v2" ] || pl_fail "the kernel redis holds '$v', not what redis-cli under shunt wrote"
pl_shunt timeout 60 redis-benchmark -h $KIP -p 6380 -n 20000 -c 16 -P 16 -t set,get -q > "$PL_TMP/cb.txt" 2>&1 ||
    pl_fail "redis-benchmark under shunt failed: $(tail -5 "$PL_TMP/cb.txt")"
cat "$PL_TMP/cb.txt"
[ "$(grep -c 'requests per second' "$PL_TMP/cb.txt")" = 2 ] || pl_fail "redis-benchmark under shunt did not finish"
echo "ok: redis-cli and redis-benchmark under shunt against a kernel redis"
# The NIC's I/O signals (net_tap) must never cut the program's own poll() short.
grep -q "Interrupted system call" "$PL_TMP"/*.txt && pl_fail "a program under shunt saw EINTR it did not cause"
echo "ok: no spurious EINTR"
