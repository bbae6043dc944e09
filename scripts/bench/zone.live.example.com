; live.example.com for scripts/bench.sh: the static part of cdnsteer's zone
; (cdnsteer's SOA values). @STREAM@ is the steered name's record, which
; differs per server (gdnsd: DYNC weighted!stream; Knot: a static CNAME;
; PowerDNS: a LUA CNAME record).
$ORIGIN live.example.com.
$TTL 3600
@       IN SOA  ns1.live.example.com. hostmaster.live.example.com. 1 14400 3600 1209600 300
@       IN NS   ns1.live.example.com.
ns1     IN A    192.0.2.53
www     IN A    192.0.2.80
@STREAM@
