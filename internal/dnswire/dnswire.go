// Package dnswire steps through DNS messages in wire form for the packet
// handler and the rate limiter, which read replies and queries in place
// rather than decode them.
package dnswire

// SkipName returns the offset just past the name at off: labels ending in
// the root label or in a compression pointer. ok is false when the name
// runs past msg or holds a reserved label type.
func SkipName(msg []byte, off int) (next int, ok bool) {
	for off < len(msg) {
		c := int(msg[off])
		switch c & 0xc0 {
		case 0x00:
			if c == 0 {
				return off + 1, true
			}
			off += 1 + c
		case 0xc0:
			return off + 2, true
		default:
			return 0, false
		}
	}
	return 0, false
}
