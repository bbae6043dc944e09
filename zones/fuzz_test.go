package zones

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary documents to the policy compiler: it must
// return a snapshot or errors, never panic, and every error must have a
// message.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("examples/*.toml")
	more, _ := filepath.Glob("testdata/*.toml")
	for _, p := range append(files, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Add(base + zoneHead)
	f.Add("[[zone]]\norigin = \".\"\nns=[\"a.\"]\n[[zone.record]]\nname=\"@\"\ntype=\"TXT\"\nvalue='\"'")
	f.Fuzz(func(t *testing.T, doc string) {
		snap, err := Parse("fuzz.toml", []byte(doc))
		if err != nil {
			if es, ok := err.(Errors); ok {
				for _, e := range es {
					if e.Msg == "" {
						t.Fatalf("an error without a message for %q", doc)
					}
				}
			}
			return
		}
		for _, z := range snap.Zones {
			if snap.FindZone(z.Origin) != z {
				t.Fatalf("zone %s not found by its own origin", z.Origin)
			}
		}
	})
}
