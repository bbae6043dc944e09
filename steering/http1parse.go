package steering

import "strings"

// fastRequest is a request head the fast path parsed.
type fastRequest struct {
	req   request
	close bool      // Connection: close
	xff   [4]string // req.xff's storage
}

// parseHead parses a request head ending in CRLF CRLF into fr, and
// reports whether the fast path may answer it: anything it does not
// parse completely is false, and net/http then answers it (or refuses it).
// The head is copied into one string, which every field of fr slices.
func parseHead(head []byte, fr *fastRequest) bool {
	*fr = fastRequest{}
	s := string(head[:len(head)-2]) // every line then ends in CRLF
	line, s, _ := strings.Cut(s, "\r\n")
	method, line, _ := strings.Cut(line, " ")
	switch method {
	case "GET", "HEAD", "OPTIONS":
	default:
		return false
	}
	target, ok := strings.CutSuffix(line, " HTTP/1.1")
	if !ok || !validTarget(target) {
		return false
	}
	path, query, _ := strings.Cut(target, "?")
	name, ok := strings.CutPrefix(path, "/steer/")
	// The path must be one net/http would neither unescape nor clean:
	// the handler reads it as URL.Path.
	if !ok || name == "." || name == ".." || !validName(name) {
		return false
	}
	fr.req = request{method: method, path: path, rawQuery: query}
	hosts := 0
	for s != "" {
		line, s, _ = strings.Cut(s, "\r\n")
		k, v, ok := strings.Cut(line, ":")
		if !ok || !validToken(k) || !validValue(v) {
			return false
		}
		v = strings.Trim(v, " \t")
		switch {
		case strings.EqualFold(k, "Host"):
			if hosts++; !validHost(v) {
				return false
			}
		case strings.EqualFold(k, "X-Forwarded-For"):
			if len(fr.req.xff) == len(fr.xff) {
				return false
			}
			fr.xff[len(fr.req.xff)] = v
			fr.req.xff = fr.xff[:len(fr.req.xff)+1]
		case strings.EqualFold(k, "Connection"):
			if hasToken(v, "upgrade") {
				return false
			}
			fr.close = fr.close || hasToken(v, "close")
		case strings.EqualFold(k, "Content-Length"), strings.EqualFold(k, "Transfer-Encoding"),
			strings.EqualFold(k, "Expect"), strings.EqualFold(k, "Upgrade"):
			return false
		}
	}
	return hosts == 1
}

// validTarget: visible ASCII, no fragment.
func validTarget(t string) bool {
	if t == "" {
		return false
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; c <= ' ' || c >= 0x7f || c == '#' {
			return false
		}
	}
	return true
}

// validName: the characters of a DNS name, nothing to unescape.
func validName(n string) bool {
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validToken: a header name (RFC 9110 token).
func validToken(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validValue: no control character but tab (a lone CR or LF included).
func validValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// validHost: a host and port, or an IPv6 literal in brackets.
func validHost(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(".-_:[]", c) >= 0) {
			return false
		}
	}
	return true
}

// hasToken reports whether the comma-separated list v holds token t, in
// any case.
func hasToken(v, t string) bool {
	for v != "" {
		var x string
		x, v, _ = strings.Cut(v, ",")
		if strings.EqualFold(strings.Trim(x, " \t"), t) {
			return true
		}
	}
	return false
}
