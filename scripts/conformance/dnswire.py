#!/usr/bin/env python3
"""dnswire.py — raw-packet DNS checks that dig and kdig cannot express.

    dnswire.py malformed HOST PORT ZONE   malformed and hostile packets
    dnswire.py pipeline  HOST PORT ZONE N N queries written at once on one
                                          TCP connection, answered in order
    dnswire.py idle      HOST PORT SECS   the server closes an idle TCP
                                          connection after about SECS
    dnswire.py split     HOST PORT ZONE   a TCP query split over several
                                          writes is still answered
    dnswire.py stall     HOST PORT        a TCP message stalled after its
                                          length is cut off within seconds
    dnswire.py perclient HOST PORT ZONE N one client address holds at most
                                          N TCP connections
    dnswire.py opcodes   HOST PORT ZONE   NOTIFY, UPDATE, IXFR and AXFR as
                                          real peers send them
    dnswire.py paths     HOST PORT ZONE   steered queries get the same reply
                                          on the fast and the general path

Each check prints one line, "PASS name: detail" or "FAIL name: detail",
which scripts/conformance.sh counts; the exit status is the number of
failures. Only the standard library is used, and only HOST (a loopback
address) is ever sent to. Every wait is bounded.
"""

import random
import socket
import struct
import sys
import threading
import time

TYPE_A, TYPE_SOA, TYPE_TXT, TYPE_OPT = 1, 6, 16, 41
CLASS_IN = 1
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED", 16: "BADVERS"}

failures = 0


def report(ok, name, detail):
    global failures
    if not ok:
        failures += 1
    print(("PASS" if ok else "FAIL") + " " + name + ": " + detail, flush=True)


# --- building messages --------------------------------------------------


def wire_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            raw = label.encode("ascii")
            out += bytes([len(raw)]) + raw
    return out + b"\x00"


def header(qid, flags=0, qd=1, an=0, ns=0, ar=0):
    return struct.pack(">HHHHHH", qid, flags, qd, an, ns, ar)


def question(name, qtype=TYPE_SOA, qclass=CLASS_IN):
    return wire_name(name) + struct.pack(">HH", qtype, qclass)


def opt_rr(options=b"", udp=1232, version=0, flags=0, owner=b"\x00"):
    ttl = (version << 16) | flags
    return owner + struct.pack(">HHIH", TYPE_OPT, udp, ttl, len(options)) + options


def option(code, data):
    return struct.pack(">HH", code, len(data)) + data


def ecs(family, source, addr, scope=0):
    return option(8, struct.pack(">HBB", family, source, scope) + addr)


def query(qid, name, qtype=TYPE_SOA, opt=None):
    """A well-formed query, with an OPT record when opt is given."""
    if opt is None:
        return header(qid) + question(name, qtype)
    return header(qid, ar=1) + question(name, qtype) + opt


# --- reading replies ----------------------------------------------------


def parse(reply):
    """(id, qr, opcode, rcode, qdcount, ancount, arcount) of a reply."""
    qid, flags, qd, an, _ns, ar = struct.unpack(">HHHHHH", reply[:12])
    return qid, flags >> 15, (flags >> 11) & 0xF, flags & 0xF, qd, an, ar


def question_name(reply):
    """The first question's name as sent back (labels only, no pointers)."""
    off, labels = 12, []
    while reply[off]:
        n = reply[off]
        labels.append(reply[off + 1 : off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    return ".".join(labels) + "."


def udp_exchange(host, port, pkt, timeout=1.0):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(pkt, (host, port))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None


def tcp_connect(host, port, timeout=3.0):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def tcp_read_msg(s):
    head = read_exact(s, 2)
    if head is None:
        return None
    return read_exact(s, struct.unpack(">H", head)[0])


def skip_name(msg, off):
    while True:
        n = msg[off]
        if n & 0xC0 == 0xC0:
            return off + 2
        if n == 0:
            return off + 1
        off += 1 + n


def opt_ttl(reply):
    """The TTL field (extended rcode, version, flags) of the reply's OPT
    record, or None when it has none."""
    try:
        _qid, _fl, qd, an, ns, ar = struct.unpack(">HHHHHH", reply[:12])
        off = 12
        for _ in range(qd):
            off = skip_name(reply, off) + 4
        for i in range(an + ns + ar):
            start = off
            off = skip_name(reply, off)
            rtype, _cls, ttl, rdlen = struct.unpack(">HHIH", reply[off : off + 10])
            if i >= an + ns and rtype == TYPE_OPT and off == start + 1:
                return ttl
            off += 10 + rdlen
    except (IndexError, struct.error):
        pass
    return None


def has_opt(reply):
    return reply is not None and opt_ttl(reply) is not None


def rcode_of(reply):
    """The reply's rcode name, with the OPT's upper bits (BADVERS is 16)."""
    rcode = parse(reply)[3] | ((opt_ttl(reply) or 0) >> 24) << 4
    return RCODES.get(rcode, "rcode %d" % rcode)


def describe(reply):
    if reply is None:
        return "no reply"
    if len(reply) < 12:
        return "a %d-byte reply" % len(reply)
    qid, qr, *_ = parse(reply)
    return "%s (id %d, qr=%d)" % (rcode_of(reply), qid, qr)


def alive(host, port, zone):
    """Whether the server still answers a plain SOA query over UDP and TCP."""
    r = udp_exchange(host, port, query(0x5151, zone), timeout=2.0)
    udp_ok = r is not None and parse(r)[3] == 0 and parse(r)[0] == 0x5151
    try:
        s = tcp_connect(host, port)
        pkt = query(0x5252, zone)
        s.sendall(struct.pack(">H", len(pkt)) + pkt)
        r = tcp_read_msg(s)
        s.close()
        tcp_ok = r is not None and parse(r)[3] == 0 and parse(r)[0] == 0x5252
    except OSError:
        tcp_ok = False
    return udp_ok, tcp_ok


# --- checks ---------------------------------------------------------------


def check_malformed(host, port, zone):
    q = question(zone)
    v4ecs = lambda src, addr: opt_rr(ecs(1, src, addr))
    long_name = b"".join(bytes([63]) + b"a" * 63 for _ in range(5)) + b"\x00"
    # (name, packet, expectation): "none" = no reply at all (RFC 1035 gives
    # nothing to answer; README: too short for a header, or a response),
    # an rcode name = a reply with that rcode and the query's ID; "+OPT"
    # after it: with an OPT, as the query's OPT was readable (RFC 6891 7).
    cases = [
        ("empty datagram", b"", "none"),
        ("1-byte packet", b"\x12", "none"),
        ("11-byte packet (short header)", header(0x1111)[:11], "none"),
        ("a response (QR=1)", header(0x1212, flags=0x8000) + q, "none"),
        ("QDCOUNT=0", header(0x1313, qd=0), "FORMERR"),
        ("QDCOUNT=2", header(0x1414, qd=2) + q + question("www." + zone), "FORMERR"),
        ("QDCOUNT=1, no question", header(0x1515), "FORMERR"),
        ("question without QTYPE and QCLASS", header(0x1616) + wire_name(zone), "FORMERR"),
        ("question without QCLASS", header(0x1627) + wire_name(zone) + struct.pack(">H", TYPE_SOA), "FORMERR"),
        ("label runs past the end", header(0x1717) + b"\x3fabc", "FORMERR"),
        ("compression loop in QNAME", header(0x1818) + b"\xc0\x0c" + struct.pack(">HH", 1, 1), "FORMERR"),
        ("pointer past the end", header(0x1919) + b"\xc3\xff" + struct.pack(">HH", 1, 1), "FORMERR"),
        ("reserved label type 0x40", header(0x1a1a) + b"\x41a\x00" + struct.pack(">HH", 1, 1), "FORMERR"),
        ("name longer than 255 octets", header(0x1b1b) + long_name + struct.pack(">HH", 1, 1), "FORMERR"),
        ("answer section in a query", header(0x1c1c, an=1) + q + wire_name(zone) + struct.pack(">HHIH", 1, 1, 60, 4) + b"\x7f\x00\x00\x01", "FORMERR"),
        ("ARCOUNT=1, nothing there", header(0x1d1d, ar=1) + q, "FORMERR"),
        ("OPT RDLENGTH past the end", header(0x1e1e, ar=1) + q + b"\x00" + struct.pack(">HHIH", TYPE_OPT, 1232, 0, 40), "FORMERR"),
        ("two OPT records", header(0x1f1f, ar=2) + q + opt_rr() + opt_rr(), "FORMERR"),
        ("OPT not owned by the root", header(0x2020, ar=1) + q + opt_rr(owner=wire_name(zone)), "FORMERR"),
        ("truncated EDNS option", header(0x2121, ar=1) + q + opt_rr(b"\x00\x08\x00\x08\x00\x01"), "FORMERR+OPT"),
        ("ECS family 3", header(0x2222, ar=1) + q + opt_rr(ecs(3, 8, b"\x0a")), "FORMERR+OPT"),
        ("ECS IPv4 source /33", header(0x2323, ar=1) + q + opt_rr(ecs(1, 33, b"\x0a\x0a\x01\x00\x00")), "FORMERR+OPT"),
        ("ECS /24 with 4 address octets", header(0x2424, ar=1) + q + v4ecs(24, b"\x0a\x0a\x01\x00"), "FORMERR+OPT"),
        ("ECS /20 with host bits set", header(0x2525, ar=1) + q + v4ecs(20, b"\x0a\x0a\x01"), "FORMERR+OPT"),
        ("two ECS options", header(0x2626, ar=1) + q + opt_rr(ecs(1, 24, b"\x0a\x0a\x01") + ecs(1, 24, b"\x0a\x0a\x02")), "FORMERR+OPT"),
        # README: any other malformed packet gets FORMERR; bytes after the
        # last record make one, on the fast path's queries too.
        ("a byte after the question", header(0x2727) + q + b"\x00", "FORMERR"),
        ("bytes after a steered question", header(0x2828) + question("stream." + zone, TYPE_A) + b"\x01\x02\x03", "FORMERR"),
        ("bytes after the OPT", header(0x2929, ar=1) + question("stream." + zone, TYPE_A) + opt_rr(ecs(1, 24, b"\x0a\x0a\x01")) + b"\x00", "FORMERR+OPT"),
        # RFC 6891 6.1.3: the options of an unknown version are its own
        # business; the answer is BADVERS whatever they hold.
        ("EDNS 1 with ECS family 3", header(0x2a2a, ar=1) + q + opt_rr(ecs(3, 8, b"\x0a"), version=1), "BADVERS+OPT"),
        ("EDNS 1 with an option cut short", header(0x2b2b, ar=1) + q + opt_rr(b"\x00\x08\x00\x08\x00\x01", version=1), "BADVERS+OPT"),
    ]
    for name, pkt, want in cases:
        reply = udp_exchange(host, port, pkt, timeout=0.5 if want == "none" else 1.0)
        if want == "none":
            report(reply is None, "malformed " + name, "no reply, as wanted" if reply is None else "got " + describe(reply) + ", want no reply")
            continue
        qid = struct.unpack(">H", pkt[:2])[0]
        rcode, opt = want.split("+")[0], want.endswith("+OPT")
        ok = reply is not None and len(reply) >= 12 and parse(reply)[0] == qid and parse(reply)[1] == 1 and rcode_of(reply) == rcode and (has_opt(reply) or not opt)
        got = describe(reply) + (" with OPT" if has_opt(reply) else "")
        report(ok, "malformed " + name, ("%s as wanted" if ok else "got %s, want " + want) % got)

    # Fuzz: random bytes behind a readable query header, and bit flips of a
    # valid query with ECS. Each has QR=0, so each deserves a reply (README:
    # any other malformed packet gets FORMERR); none may take the server down.
    rnd = random.Random(20260614)
    base = query(0x3000, "stream." + zone, TYPE_A, opt_rr(ecs(1, 24, b"\x0a\x0a\x01")))
    sent = answered = wrong_id = 0
    for i in range(400):
        if i % 2 == 0:
            body = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 300)))
            pkt = struct.pack(">HH", 0x4000 + i, rnd.getrandbits(16) & 0x7FFF) + bytes(rnd.getrandbits(8) for _ in range(8)) + body
        else:
            b = bytearray(base)
            for _ in range(rnd.randint(1, 6)):
                pos = rnd.randrange(4, len(b))
                b[pos] ^= 1 << rnd.randrange(8)
            b[0:2] = struct.pack(">H", 0x4000 + i)
            pkt = bytes(b)
        sent += 1
        reply = udp_exchange(host, port, pkt, timeout=0.5)
        if reply is not None:
            answered += 1
            if len(reply) < 12 or parse(reply)[0] != 0x4000 + i:
                wrong_id += 1
    report(answered == sent and wrong_id == 0, "malformed fuzz",
           "%d random/bit-flipped queries (QR=0), %d answered, %d with a wrong ID; want every one answered with its ID" % (sent, answered, wrong_id))

    # TCP: a length below a header closes the connection; a message cut
    # short by EOF is dropped; neither may hurt the next client.
    try:
        s = tcp_connect(host, port)
        s.sendall(struct.pack(">H", 5) + b"\x01\x02\x03\x04\x05")
        r = tcp_read_msg(s)
        s.close()
        report(r is None, "malformed tcp length 5", "connection closed without a reply" if r is None else "got " + describe(r))
    except OSError as e:
        report(True, "malformed tcp length 5", "connection closed (%s)" % e.__class__.__name__)
    try:
        s = tcp_connect(host, port)
        pkt = query(0x5353, zone)
        s.sendall(struct.pack(">H", len(pkt) + 40) + pkt)
        s.shutdown(socket.SHUT_WR)
        r = tcp_read_msg(s)
        s.close()
        report(r is None, "malformed tcp message cut short", "no reply, connection closed" if r is None else "got " + describe(r))
    except OSError as e:
        report(True, "malformed tcp message cut short", "connection closed (%s)" % e.__class__.__name__)

    udp_ok, tcp_ok = alive(host, port, zone)
    report(udp_ok and tcp_ok, "malformed then still answering", "SOA over UDP %s, over TCP %s after all of the above" % ("ok" if udp_ok else "FAILED", "ok" if tcp_ok else "FAILED"))


def soa_rr(zone, serial=1):
    rdata = wire_name("ns1." + zone) + wire_name("hostmaster." + zone) + struct.pack(">IIIII", serial, 3600, 600, 86400, 300)
    return wire_name(zone) + struct.pack(">HHIH", TYPE_SOA, CLASS_IN, 3600, len(rdata)) + rdata


def tcp_exchange(host, port, pkt):
    try:
        s = tcp_connect(host, port)
        s.sendall(struct.pack(">H", len(pkt)) + pkt)
        r = tcp_read_msg(s)
        s.close()
        return r
    except OSError:
        return None


def check_opcodes(host, port, zone):
    """Messages as real peers send them: a NOTIFY carries the new SOA in
    its answer section (RFC 1996 3.7), an UPDATE has prerequisite and
    update sections (RFC 2136 2), an IXFR request the client's SOA in its
    authority section (RFC 1995 3). README: opcodes other than QUERY ->
    NOTIMP; AXFR/IXFR -> REFUSED."""
    q = question(zone)
    notify = header(0x9001, flags=4 << 11 | 0x0400, an=1) + q + soa_rr(zone, 2)
    update = header(0x9002, flags=5 << 11, qd=1, an=0, ns=1) + q + wire_name("new." + zone) + struct.pack(">HHIH", TYPE_A, CLASS_IN, 300, 4) + b"\x7f\x00\x01\x09"
    ixfr = header(0x9003, ns=1) + question(zone, 251) + soa_rr(zone, 1)
    axfr = header(0x9004) + question(zone, 252)
    cases = [
        ("NOTIFY with SOA (UDP)", notify, "udp", "NOTIMP"),
        ("UPDATE with an update section (UDP)", update, "udp", "NOTIMP"),
        ("IXFR with the client's SOA (TCP)", ixfr, "tcp", "REFUSED"),
        ("IXFR with the client's SOA (UDP)", ixfr, "udp", "REFUSED"),
        ("AXFR (TCP)", axfr, "tcp", "REFUSED"),
        ("AXFR (UDP)", axfr, "udp", "REFUSED"),
    ]
    for name, pkt, how, want in cases:
        reply = udp_exchange(host, port, pkt) if how == "udp" else tcp_exchange(host, port, pkt)
        qid = struct.unpack(">H", pkt[:2])[0]
        ok = reply is not None and len(reply) >= 12 and parse(reply)[0] == qid and RCODES.get(parse(reply)[3]) == want
        report(ok, name, ("%s as wanted" if ok else "got %s, want " + want) % describe(reply))


def check_paths(host, port, zone):
    """cdnsteer answers plain steered queries on a fast path that writes the
    reply itself, and everything else on the general path. The same
    question must get the same reply from both. An unknown EDNS option
    sends a query to the general path; the option is not echoed, so the two
    replies must be byte for byte the same. Without EDNS, TCP is the
    general path (a small reply is not truncated, so it is the same)."""
    subnets = [(1, 24, bytes([10, 10, 1])), (1, 24, bytes([10, 20, 7])), (1, 24, bytes([10, 30, 1])), (1, 24, bytes([198, 51, 100])),
               (1, 16, bytes([10, 30])), (1, 32, bytes([10, 30, 5, 9])), (1, 0, b""), (2, 56, bytes([0x20, 0x01, 0x0d, 0xb8, 0, 0x30, 0x01])),
               (2, 48, bytes([0x20, 0x01, 0x0d, 0xb8, 0, 0x31]))]
    for i in range(24):
        subnets.append((1, 24, bytes([10, 40 + i % 3, i * 7 % 256])))
    compared = differ = 0
    details = []
    qid = 0xA000
    for qtype in (TYPE_A, 28, 65):
        for do in (0, 0x8000):
            for fam, src, addr in subnets:
                qid += 1
                opt_plain = opt_rr(ecs(fam, src, addr), flags=do)
                opt_general = opt_rr(ecs(fam, src, addr) + option(65001, b""), flags=do)
                fast = udp_exchange(host, port, query(qid, "stream." + zone, qtype, opt_plain))
                general = udp_exchange(host, port, query(qid, "stream." + zone, qtype, opt_general))
                compared += 1
                if fast != general:
                    differ += 1
                    if len(details) < 3:
                        details.append("type %d do=%d ECS %d/%d %s: %s vs %s" % (qtype, do >> 15, fam, src, addr.hex(), (fast or b"").hex(), (general or b"").hex()))
    for qtype in (TYPE_A, 28):
        qid += 1
        pkt = query(qid, "StReAm." + zone, qtype)
        fast = udp_exchange(host, port, pkt)
        general = tcp_exchange(host, port, pkt)
        compared += 1
        if fast != general:
            differ += 1
            if len(details) < 3:
                details.append("type %d without EDNS, UDP vs TCP: %s vs %s" % (qtype, (fast or b"").hex(), (general or b"").hex()))
    report(differ == 0, "fast and general path agree",
           "%d steered queries asked both ways, %d replies differ%s" % (compared, differ, ("; first: " + "; ".join(details)) if details else ""))


def check_pipeline(host, port, zone, n):
    """n queries in one write; n replies, in order (README: answered in order)."""
    names = []
    for i in range(n):
        names.append(["", "www.", "player.", "stream.", "nx-%d." % i, "ns1."][i % 6] + zone)
    wire = b""
    for i, name in enumerate(names):
        pkt = query(0x6000 + i, name, TYPE_A if i % 6 else TYPE_SOA, opt_rr())
        wire += struct.pack(">H", len(pkt)) + pkt
    try:
        s = tcp_connect(host, port, timeout=5)
        s.sendall(wire)
        got = []
        for _ in names:
            r = tcp_read_msg(s)
            if r is None:
                break
            got.append(r)
        s.close()
    except OSError as e:
        report(False, "tcp pipelining", "%d queries on one connection: %s" % (n, e))
        return
    ids = [parse(r)[0] - 0x6000 for r in got]
    in_order = ids == list(range(n))
    names_ok = all(question_name(r).lower() == names[i].lower() for i, r in enumerate(got)) if in_order else False
    report(len(got) == n and in_order and names_ok, "tcp pipelining",
           "%d queries written at once on one connection: %d replies, IDs in order: %s, questions match: %s" % (n, len(got), in_order, names_ok))


def check_split(host, port, zone):
    """RFC 7766 §8: the length and the message may arrive in pieces."""
    pkt = query(0x7777, zone, TYPE_SOA, opt_rr())
    wire = struct.pack(">H", len(pkt)) + pkt
    try:
        s = tcp_connect(host, port)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for piece in (wire[:1], wire[1:5], wire[5:20], wire[20:]):
            s.sendall(piece)
            time.sleep(0.05)
        r = tcp_read_msg(s)
        s.close()
    except OSError as e:
        report(False, "tcp split query", str(e))
        return
    ok = r is not None and parse(r)[0] == 0x7777 and parse(r)[3] == 0
    report(ok, "tcp split query", "length and message sent in 4 pieces 50 ms apart: " + describe(r))


def check_idle(host, port, secs):
    """A connection that sends nothing, and one that goes quiet after a
    query, are both closed by the server after about secs (RFC 7766 §6.2.3)."""
    limit = secs + 5

    def wait_close(after_query, out):
        try:
            s = tcp_connect(host, port, timeout=limit)
            if after_query:
                pkt = query(0x8888, "example.invalid.")
                s.sendall(struct.pack(">H", len(pkt)) + pkt)
                tcp_read_msg(s)
            start = time.monotonic()
            try:
                data = s.recv(1)
                out["how"] = "closed by the server" if not data else "unexpected data"
            except socket.timeout:
                out["how"] = "still open after %ds" % limit
            except ConnectionResetError:
                out["how"] = "reset by the server"
            out["secs"] = time.monotonic() - start
            s.close()
        except OSError as e:
            out["how"], out["secs"] = "error: %s" % e, -1

    results = [{}, {}]
    threads = [threading.Thread(target=wait_close, args=(i == 1, results[i])) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(limit + 2)
    for label, r in zip(("fresh connection", "after one query"), results):
        secs_taken = r.get("secs", -1)
        ok = r.get("how") in ("closed by the server", "reset by the server") and secs - 1.5 <= secs_taken <= secs + 2.5
        report(ok, "tcp idle timeout (%s)" % label, "%s after %.1fs, want about %ds" % (r.get("how", "no result"), secs_taken, secs))


def check_stall(host, port):
    """RFC 7766 §6.2.3: a client that sends a length and then stalls inside
    the message must not hold the connection for the idle timeout."""
    limit = 8
    try:
        s = tcp_connect(host, port, timeout=limit)
        s.sendall(b"\x00\x20\x12")
        start = time.monotonic()
        try:
            data = s.recv(1)
            how = "closed by the server" if not data else "unexpected data"
        except socket.timeout:
            how = "still open"
        except ConnectionResetError:
            how = "reset by the server"
        secs = time.monotonic() - start
        s.close()
    except OSError as e:
        report(False, "tcp stalled message", str(e))
        return
    ok = how in ("closed by the server", "reset by the server") and secs <= 4
    report(ok, "tcp stalled message", "length 32 and one byte, then nothing: %s after %.1fs, want within 4s" % (how, secs))


def check_perclient(host, port, zone, cap):
    """RFC 9210 / as BIND and Knot: one address holds at most cap
    connections; the one over the cap is closed at once, and the address
    is served again when it lets go. The client binds its own loopback
    address so that the suite's other connections do not count."""
    source = "127.0.0.77" if ":" not in host else "::1"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    held = []

    def connect():
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(3)
        s.bind((source, 0))
        s.connect((host, port))
        return s

    try:
        for _ in range(cap):
            held.append(connect())
        # Each held connection answers, so all were accepted and kept.
        answered = 0
        for i, s in enumerate(held):
            pkt = query(0x9000 + i, zone, TYPE_SOA)
            s.sendall(struct.pack(">H", len(pkt)) + pkt)
            r = tcp_read_msg(s)
            answered += r is not None and parse(r)[0] == 0x9000 + i
        extra = connect()
        start = time.monotonic()
        try:
            data = extra.recv(1)
            how = "closed by the server" if not data else "unexpected data"
        except socket.timeout:
            how = "still open"
        except ConnectionResetError:
            how = "reset by the server"
        secs = time.monotonic() - start
        extra.close()
    except OSError as e:
        report(False, "tcp connections per client", str(e))
        return
    finally:
        for s in held:
            s.close()
    ok = answered == cap and how in ("closed by the server", "reset by the server") and secs < 1
    report(ok, "tcp connections per client",
           "%d connections from %s: %d answered; connection %d %s after %.1fs" % (cap, source, answered, cap + 1, how, secs))
    # The server frees a slot when it reads the client's close, a moment
    # after it: ask again for up to 3 s.
    r, tries, deadline = None, 0, time.monotonic() + 3
    while r is None and time.monotonic() < deadline:
        tries += 1
        try:
            s = connect()
            pkt = query(0x9999, zone, TYPE_SOA)
            s.sendall(struct.pack(">H", len(pkt)) + pkt)
            r = tcp_read_msg(s)
            s.close()
        except OSError:
            pass
        if r is None:
            time.sleep(0.1)
    report(r is not None and parse(r)[0] == 0x9999, "tcp connections per client (released)",
           "after closing them, a new connection from %s (try %d): %s" % (source, tries, describe(r)))


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 64
    cmd, host, port = argv[1], argv[2], int(argv[3])
    if cmd == "malformed":
        check_malformed(host, port, argv[4])
    elif cmd == "pipeline":
        check_pipeline(host, port, argv[4], int(argv[5]))
    elif cmd == "paths":
        check_paths(host, port, argv[4])
    elif cmd == "opcodes":
        check_opcodes(host, port, argv[4])
    elif cmd == "split":
        check_split(host, port, argv[4])
    elif cmd == "stall":
        check_stall(host, port)
    elif cmd == "perclient":
        check_perclient(host, port, argv[4], int(argv[5]))
    elif cmd == "idle":
        check_idle(host, port, int(argv[4]))
    else:
        print(__doc__, file=sys.stderr)
        return 64
    return min(failures, 63)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
