package geotest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Synthetic builds a Country-layout database shaped like GeoLite2-Country,
// whose license keeps it out of the repository: n4 IPv4 and n6 IPv6
// disjoint networks of typical lengths (/18../24 and /32../48, with gaps as
// real data has), each in one of countries (spread over continents), with
// names in eight languages so that a loader has real fields to skip. IPv4
// networks start at 1.0.0.0; IPv6 ones at 2400::. The same arguments give
// the same bytes.
func Synthetic(countries, continents []string, n4, n6 int) ([]byte, error) {
	langs := []string{"de", "en", "es", "fr", "ja", "pt-BR", "ru", "zh-CN"}
	var records []mmdbtype.Map
	for i, cc := range countries {
		cont := continents[i%len(continents)]
		nm := mmdbtype.Map{}
		for _, l := range langs {
			nm[mmdbtype.String(l)] = mmdbtype.String("Country " + cc + " in " + l)
		}
		country := mmdbtype.Map{"geoname_id": mmdbtype.Uint32(1000000 + 3*i), "iso_code": mmdbtype.String(cc), "names": nm}
		records = append(records, mmdbtype.Map{
			"continent": mmdbtype.Map{
				"code":       mmdbtype.String(cont),
				"geoname_id": mmdbtype.Uint32(6255140 + (3*i)%7),
				"names":      mmdbtype.Map{"en": mmdbtype.String("Continent " + cont)},
			},
			"country":            country,
			"registered_country": country,
		})
	}
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: Country, Languages: langs, IncludeReservedNetworks: true, BuildEpoch: 1700000000})
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	insert := func(ip net.IP, plen, bitlen int) error {
		n := &net.IPNet{IP: ip, Mask: net.CIDRMask(plen, bitlen)}
		if err := tree.Insert(n, records[rng.IntN(len(records))]); err != nil {
			return fmt.Errorf("insert %s: %w", n, err)
		}
		return nil
	}
	cursor := uint64(1 << 24) // 1.0.0.0
	for range n4 {
		plen := 18 + rng.IntN(7)
		size := uint64(1) << (32 - plen)
		cursor = (cursor + size - 1) &^ (size - 1)
		if rng.IntN(10) == 0 {
			cursor += size
		}
		if cursor+size > 1<<32 {
			return nil, fmt.Errorf("%d IPv4 networks do not fit", n4)
		}
		if err := insert(binary.BigEndian.AppendUint32(nil, uint32(cursor)), plen, 32); err != nil {
			return nil, err
		}
		cursor += size
	}
	hi := uint64(0x2400) << 48
	for range n6 {
		plen := 32 + rng.IntN(17)
		size := uint64(1) << (64 - plen)
		hi = (hi + size - 1) &^ (size - 1)
		if rng.IntN(10) == 0 {
			hi += size
		}
		ip := make(net.IP, net.IPv6len)
		binary.BigEndian.PutUint64(ip, hi)
		if err := insert(ip, plen, 128); err != nil {
			return nil, err
		}
		hi += size
	}
	var buf bytes.Buffer
	if _, err := tree.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
