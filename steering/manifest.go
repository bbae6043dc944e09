package steering

import (
	"net/url"
	"strconv"
	"unicode/utf8"
)

// appendManifest appends the steering manifest: the keys of Apple's HLS
// Content Steering spec, which DASH-IF CTS (ETSI TS 103 998) uses alike.
// RELOAD-URI keeps the session ID so that the player's next request
// lands on the same key; the player adds its own _HLS_/_DASH_ parameters.
func appendManifest(b []byte, ttl uint32, path, sid string, pathways []string, order []int) []byte {
	b = append(b, `{"VERSION":1,"TTL":`...)
	b = strconv.AppendUint(b, uint64(ttl), 10)
	b = append(b, `,"RELOAD-URI":"`...)
	b = appendJSONChars(b, path)
	if sid != "" {
		b = append(b, "?sid="...)
		b = appendJSONChars(b, url.QueryEscape(sid)) // no copy unless escaped
	}
	b = append(b, '"')
	b = append(b, `,"PATHWAY-PRIORITY":[`...)
	for i, c := range order {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, pathways[c])
	}
	return append(b, "]}\n"...)
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes
// U+FFFD, so the manifest stays valid JSON whatever a path holds.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	return append(appendJSONChars(b, s), '"')
}

// appendJSONChars appends s escaped for a JSON string, without quotes.
func appendJSONChars(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

// unescape is url.QueryUnescape, named for the one place it is needed.
func unescape(s string) (string, error) { return url.QueryUnescape(s) }
