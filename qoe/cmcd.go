package qoe

import "github.com/cdnsteer/cdnsteer/health"

// Report is what one CMCD dictionary says that steering uses. Every
// other key is ignored, as CMCD asks of a receiver that does not use it.
type Report struct {
	// SID, CDN and URL are the unquoted strings (nil when absent), valid
	// until the Parser's next line; OT is the object type token.
	SID, CDN, URL, OT []byte
	// Starved: the player's buffer ran dry since its previous report
	// (bs, a bsd duration above 0, or the state sta=r).
	Starved bool
	// MTP (kbit/s), MSD, TTFB (ms) and RC are -1 when absent or dropped.
	MTP, MSD, TTFB, RC int64
	// Dropped counts values of the keys above refused: of the wrong
	// type, negative, or past what the kind they feed can be.
	Dropped int
}

// Video reports whether the object is video (v, or muxed av): only
// those speak for the video throughput and TTFB.
func (r *Report) Video() bool { return isVideo(r.OT) }

func isVideo(ot []byte) bool { return string(ot) == "v" || string(ot) == "av" }

// maxString bounds the strings kept: CMCD allows 64 bytes for sid and
// 128 for cdn; a URL longer than this is not one a CDN host is read from.
const maxString = 2048

// Parser parses CMCD lines; reuse one per goroutine (it is not safe for
// concurrent use). After its first lines it allocates nothing.
type Parser struct {
	dict    Dict
	scratch []byte
}

// Parse parses one CMCD dictionary into r. It fails only on a malformed
// dictionary; values it cannot use are dropped and counted in r.Dropped.
func (p *Parser) Parse(line []byte, r *Report) error {
	*r = Report{MTP: -1, MSD: -1, TTFB: -1, RC: -1}
	if err := p.dict.Parse(line); err != nil {
		return err
	}
	d := &p.dict
	p.scratch = p.scratch[:0]
	var mtp *Member
	for i := 0; i < d.n; i++ {
		m := &d.members[i]
		switch string(m.Key) {
		case "bs":
			if v, ok := flag(m); ok {
				r.Starved = r.Starved || v
			} else {
				r.Dropped++
			}
		case "bsd":
			p.starvation(m, r)
		case "sta":
			if !m.IsList && m.Item.Type == TypeToken {
				r.Starved = r.Starved || string(m.Item.Raw) == "r"
			} else {
				r.Dropped++
			}
		case "ot":
			if !m.IsList && m.Item.Type == TypeToken {
				r.OT = m.Item.Raw
			} else {
				r.Dropped++
			}
		case "mtp":
			mtp = m // read once ot is known, wherever it comes
		case "msd":
			r.MSD = p.whole(m, health.StartupMs, r)
		case "ttfb":
			r.TTFB = p.whole(m, health.SegmentTTFB, r)
		case "rc":
			if v, ok := number(m); ok && v >= 100 && v <= 599 {
				r.RC = v
			} else {
				r.Dropped++
			}
		case "sid":
			r.SID = p.text(m, r)
		case "cdn":
			r.CDN = p.text(m, r)
		case "url":
			r.URL = p.text(m, r)
		}
	}
	if mtp != nil {
		r.MTP = p.throughput(mtp, r)
	}
	return nil
}

// flag is a boolean member's value.
func flag(m *Member) (bool, bool) {
	if m.IsList || m.Item.Type != TypeBoolean {
		return false, false
	}
	return m.Item.Int == 1, true
}

// number is an integer (or a decimal, rounded) member's value.
func number(m *Member) (int64, bool) {
	if m.IsList {
		return 0, false
	}
	return itemNumber(&m.Item)
}

func itemNumber(it *Item) (int64, bool) {
	switch it.Type {
	case TypeInteger:
		return it.Int, true
	case TypeDecimal:
		if it.Int < 0 {
			return -((-it.Int + 500) / 1000), true
		}
		return (it.Int + 500) / 1000, true
	}
	return 0, false
}

// whole is a member's number if it is a plausible value of kind k, else
// -1 (and, when given, counted as dropped).
func (p *Parser) whole(m *Member, k health.Kind, r *Report) int64 {
	v, ok := number(m)
	if !ok || !k.InRange(float64(v)) {
		r.Dropped++
		return -1
	}
	return v
}

// starvation reads bsd: one duration (v2 drafts) or an inner list of
// them (CTA-5004-B), each for some object type; any above 0 is a stall.
func (p *Parser) starvation(m *Member, r *Report) {
	if !m.IsList {
		if v, ok := number(m); ok && v >= 0 {
			r.Starved = r.Starved || v > 0
		} else {
			r.Dropped++
		}
		return
	}
	for i := 0; i < int(m.list.n); i++ {
		if v, ok := itemNumber(p.dict.ListItem(m, i)); ok && v >= 0 {
			r.Starved = r.Starved || v > 0
		} else {
			r.Dropped++
		}
	}
}

// throughput reads mtp: an integer (v1) that speaks for the object type
// of the report, or an inner list (v2) whose items may name their own
// type with a token parameter ("mtp=(5000;v 128;a)"). A video value is
// one marked v or av, or an unmarked one on a video object.
func (p *Parser) throughput(m *Member, r *Report) int64 {
	take := func(it *Item) int64 {
		v, ok := itemNumber(it)
		if !ok || !health.VideoThroughput.InRange(float64(v)) {
			r.Dropped++
			return -1
		}
		return v
	}
	if !m.IsList {
		if !r.Video() {
			return -1
		}
		return take(&m.Item)
	}
	for i := 0; i < int(m.list.n); i++ {
		marked, video := false, false
		for _, pr := range p.dict.ItemParams(m, i) {
			if pr.Value.Type == TypeBoolean && pr.Value.Int == 1 {
				marked = true
				video = video || isVideo(pr.Key)
			}
		}
		if video || !marked && r.Video() {
			return take(p.dict.ListItem(m, i))
		}
	}
	return -1
}

// text is a string member's value, unquoted into the parser's scratch.
func (p *Parser) text(m *Member, r *Report) []byte {
	if m.IsList || m.Item.Type != TypeString || len(m.Item.Raw) > maxString {
		r.Dropped++
		return nil
	}
	if !m.Item.Escaped {
		return m.Item.Raw
	}
	start := len(p.scratch)
	p.scratch = m.Item.Unquote(p.scratch)
	return p.scratch[start:len(p.scratch):len(p.scratch)]
}
