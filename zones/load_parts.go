package zones

import "strings"

// The TOML library keeps, while it decodes, about 1 KB for every key of
// the document (its key paths, types and positions) and leaves some 2 KB
// of garbage each. A 1,000-name policy has 140,000 keys, nearly all in
// its [policy.NAME.region.REGION] tables: decoded whole, the live heap
// of a load reached about 130 MB, and a reload that the collector caught
// in the middle set the heap's next goal twice that much higher, on top
// of everything the running server holds. decodePolicy decodes those
// tables a part at a time instead, so that only one part's bookkeeping
// is alive at once: about 31-36 MB at the peak of a load
// (BenchmarkParse1000Names, peak-live-MB).

// policyPartBytes is about how much of the policy tables is decoded at
// once: large enough that a part's fixed cost is nothing, small enough
// that its bookkeeping is a few megabytes.
const policyPartBytes = 64 << 10

// decodePolicy decodes the policy document data into f, the policy tables
// apart from the rest. Whatever the parts cannot vouch for (a document
// that does not decode, policy keys outside their [policy.NAME...] tables,
// arrays of tables under [policy]) is decoded whole instead, so that the
// result and the errors are those of DecodeTOML.
func decodePolicy(name string, data []byte, f *File) (*ErrorList, error) {
	doc := string(data)
	if rest, parts, ok := splitPolicies(doc); ok && len(parts) > 0 {
		if unknown, ok := decodeParts(rest, parts, f); ok {
			return unknownKeys(name, doc, unknown), nil
		}
		*f = *newFile()
	}
	return DecodeTOML(name, data, f)
}

// decodeParts decodes rest into f and each part's policies into
// f.Policy. It returns the undecoded keys, or false when a part does not
// decode or rest defines policies of its own.
func decodeParts(rest string, parts []string, f *File) ([]string, bool) {
	md, err := tomlDecode(rest, f)
	if err != nil || len(f.Policy) > 0 {
		return nil, false
	}
	unknown := undecoded(md)
	f.Policy = map[string]PolicyConfig{}
	for _, part := range parts {
		var pf struct {
			Policy map[string]PolicyConfig `toml:"policy"`
		}
		md, err := tomlDecode(part, &pf)
		if err != nil {
			return nil, false
		}
		for name, pc := range pf.Policy {
			f.Policy[name] = pc
		}
		unknown = append(unknown, undecoded(md)...)
	}
	return unknown, true
}

// splitPolicies cuts the [policy.NAME...] tables out of doc: rest is the
// document without them, each part holds the tables of whole policies
// (a policy's tables in file order, the policies in the order they first
// appear). ok is false when an array of tables is under [policy]. Lines
// are read as IndexLines reads them: a line that continues a value
// (arrays, multi-line strings) is never taken for a table's header.
func splitPolicies(doc string) (rest string, parts []string, ok bool) {
	lines := strings.Split(doc, "\n")
	var restLines []string
	byPolicy := map[string][]string{}
	var order []string
	owner := "" // the policy whose table the lines are in; "" for the rest
	for n := 0; n < len(lines); n++ {
		line := strings.TrimSpace(lines[n])
		more := 0 // lines continuing this one's value
		switch {
		case strings.HasPrefix(line, "["):
			if owner, ok = tableOwner(line); !ok {
				return "", nil, false
			}
			if _, seen := byPolicy[owner]; owner != "" && !seen {
				order = append(order, owner)
				byPolicy[owner] = nil
			}
		case line != "" && line[0] != '#':
			if eq := keyEnd(line); eq >= 0 {
				more = continuationLines(lines[n:], eq)
			}
		}
		if owner == "" {
			restLines = append(restLines, lines[n:n+1+more]...)
		} else {
			byPolicy[owner] = append(byPolicy[owner], lines[n:n+1+more]...)
		}
		n += more
	}
	var b strings.Builder
	for _, pol := range order {
		for _, l := range byPolicy[pol] {
			b.WriteString(l)
			b.WriteByte('\n')
		}
		if b.Len() >= policyPartBytes {
			parts = append(parts, b.String())
			b.Reset()
		}
	}
	if b.Len() > 0 {
		parts = append(parts, b.String())
	}
	return strings.Join(restLines, "\n"), parts, true
}

// tableOwner is the policy whose table the header line opens; "" for any
// other table, [policy] itself included. ok is false for an array of
// tables under [policy].
func tableOwner(line string) (policy string, ok bool) {
	inner := strings.TrimLeft(line, "[")
	if end := closingBracket(inner); end >= 0 {
		inner = inner[:end]
	}
	key := splitKey(inner)
	switch {
	case len(key) == 0 || key[0] != "policy":
		return "", true
	case strings.HasPrefix(line, "[["):
		return "", false
	case len(key) == 1:
		return "", true
	}
	return key[1], true
}
