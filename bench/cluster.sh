#!/bin/bash
# Replicas on etcd, by hand (not yet a `make bench` group): a 3-member etcd on loopback, 3
# netledgerd replicas, 64 keep-alive connections spread over them (REPLICAS=1: one replica, 64
# connections), then write-to-visible latency (allocate on one replica, poll another).
#   bench/cluster.sh            # needs build/bin/{netledgerd,http_load} and etcd-server
set -u
B=${NETLEDGER_BIN:-$(cd "$(dirname "$0")/.." && pwd)/build/bin}
D=$(mktemp -d /tmp/netledger-cluster-XXXXXX)
IC="m0=http://127.0.0.1:24800,m1=http://127.0.0.1:24801,m2=http://127.0.0.1:24802"
for i in 0 1 2; do
  etcd --name m$i --data-dir $D/e$i --max-txn-ops ${TXN_OPS:-1024} --listen-client-urls http://127.0.0.1:2470$i \
    --advertise-client-urls http://127.0.0.1:2470$i --listen-peer-urls http://127.0.0.1:2480$i \
    --initial-advertise-peer-urls http://127.0.0.1:2480$i --initial-cluster $IC \
    --initial-cluster-state new --logger zap --log-outputs $D/e$i.log >/dev/null 2>&1 &
done
sleep 3
EP=127.0.0.1:24700,127.0.0.1:24701,127.0.0.1:24702
for i in 1 2 3; do
  NETLEDGER_BOOTSTRAP_TOKEN=tok $B/netledgerd --listen 127.0.0.1:1808$i --data-dir $D/n$i \
    --store "etcd://$EP/bench?max-txn-ops=${TXN_OPS:-1024}" > $D/n$i.log 2>&1 &
  sleep 1.5
done
curl -s -o /dev/null -w "pool %{http_code}\n" -H "Authorization: Bearer tok" -XPOST localhost:18081/v1/pools -d '{"name":"blue","cidr":"10.64.0.0/14"}'
sleep 0.5
R=${REPLICAS:-3}
for i in $(seq 1 $R); do
  c=$((64 / R)); [ $i = 1 ] && c=$((64 - (R - 1) * (64 / R)))
  $B/http_load --url http://127.0.0.1:1808$i/v1/bindings --method POST \
    --body-template "{\"instance\":\"r$i-vm-{n}\",\"pool\":\"blue\"}" --connections $c --requests ${REQ:-60} \
    --header "Authorization: Bearer tok" > $D/load$i.txt 2>&1 &
done
wait $(jobs -p | tail -$R) 2>/dev/null
sleep 1
cat $D/load*.txt | grep -E "requests_per_s|p50_ms|p99_ms|non_2xx|errors"
# write-to-visible: allocate on replica 1, poll replica 2 until it shows the binding
python3 - <<'PY'
import http.client, json, time, statistics
h={"Authorization":"Bearer tok","Content-Type":"application/json"}
a=http.client.HTTPConnection("127.0.0.1",18081); b=http.client.HTTPConnection("127.0.0.1",18082)
lat=[]
for i in range(100):  # needs replicas 1 and 2
    a.request("POST","/v1/bindings",json.dumps({"instance":f"vis-{i}","pool":"blue"}),h); r=a.getresponse(); body=json.loads(r.read())
    t0=time.perf_counter(); bid=body["id"]
    while True:
        b.request("GET",f"/v1/bindings/{bid}",headers=h); rr=b.getresponse(); rr.read()
        if rr.status==200: break
    lat.append((time.perf_counter()-t0)*1000)
lat.sort(); print("visible_p50_ms %.2f p99_ms %.2f max_ms %.2f"%(lat[50],lat[98],lat[-1]))
PY
for i in 1 2 3; do curl -s localhost:1808$i/metrics | grep -E "^netledger_(commit_failures_total|commit_seconds_(sum|count)|batch_writes_(sum|count))" | tr "\n" " "; echo; done
curl -s -H "Authorization: Bearer tok" "localhost:18081/v1/pools/blue" | python3 -c "import json,sys; print('used (replica 1 view):', json.load(sys.stdin)['utilization']['used'])"
grep -h "commit of" $D/n*.log | head -${SHOW_FAILURES:-0}
pkill -f "netledgerd --listen 127.0.0.1:1808"; pkill -f "$D/e"; sleep 1; rm -rf "$D"
