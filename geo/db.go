package geo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
)

// DB is a geolocation database reduced to what region lookups need: each
// network's country and continent. It is built once from a MaxMind DB
// file, holds no reference to the file or its bytes, and is never modified
// afterwards, so lookups need no lock and a replaced DB is simply left to
// the garbage collector once no query holds it.
type DB struct {
	info    DBInfo
	nets    prefixSet // networks with a country or continent; value = class
	classes []dbClass
}

// dbClass is one distinct country/continent pair found in a database;
// networks refer to it by index so each costs a few bytes, not a record.
type dbClass struct {
	code      [2]byte // country code as stored, zero if none
	country   int16   // countryIndex(code), -1 if none
	continent int8    // continentIndex, -1 if none
}

// DBInfo describes a loaded database.
type DBInfo struct {
	// Path is the file the database was read from.
	Path string
	// Type is the database_type metadata, e.g. "GeoLite2-Country".
	Type string
	// BuildTime is when the database was built, from its metadata.
	BuildTime time.Time
	// Networks counts the networks that carry a country or continent.
	Networks int
	// Countries counts the distinct country codes seen.
	Countries int
}

// geoRecord is the part of a GeoIP2/GeoLite2 Country or City record that
// routing needs; the decoder skips every other field.
type geoRecord struct {
	Continent struct {
		Code string `maxminddb:"code"`
	} `maxminddb:"continent"`
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
}

const (
	// offsetCacheMax bounds the record-offset cache. A Country database has
	// a few hundred distinct records, so the cache always hits; a City
	// database has millions, so an unbounded cache would cost more memory
	// than the table being built.
	offsetCacheMax = 1 << 16
	// maxNetworks guards memory against a corrupt tree that keeps yielding
	// networks; real databases have a few million at most.
	maxNetworks = 1 << 25
	// ctxCheckEvery is how many networks pass between cancellation checks.
	ctxCheckEvery = 1 << 14
)

// OpenDB reads a GeoIP2 or GeoLite2 Country or City database (or any
// MaxMind DB whose records carry country.iso_code, registered_country or
// continent.code) into memory.
func OpenDB(path string) (*DB, error) {
	db, _, err := loadDB(context.Background(), path)
	return db, err
}

// Info describes the database.
func (d *DB) Info() DBInfo { return d.info }

// loadDB is OpenDB made cancellable. It also returns the stat of the file
// it read, even when the contents were bad, so that a watcher can tell
// later whether the file has changed since.
func loadDB(ctx context.Context, path string) (*DB, os.FileInfo, error) {
	buf, fi, err := readFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read geoip database: %w", err)
	}
	r, err := maxminddb.OpenBytes(buf)
	if err != nil {
		return nil, fi, fmt.Errorf("open geoip database %s: not a MaxMind DB file: %w", path, err)
	}
	db, err := build(ctx, r)
	if err != nil {
		return nil, fi, fmt.Errorf("load geoip database %s: %w", path, err)
	}
	db.info.Path = path
	return db, fi, nil
}

// readFile reads the whole file, stating the same open file so the stat
// describes exactly the bytes read, even if the path is replaced meanwhile.
func readFile(path string) ([]byte, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s is not a regular file", path)
	}
	// Sized from the stat so the read needs one allocation, which keeps a
	// reload's peak memory near the file size.
	buf := make([]byte, 0, fi.Size()+1)
	for {
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, fi, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

// build walks every network of r once, decoding each distinct record once,
// and flattens the result into a DB that no longer needs r.
// noData is the value of a record that decides nothing: its networks are
// left as gaps, and the lookup scopes around them like any gap.
const noData = ^uint32(0)

// readNetworks reads every network of a MaxMind database into a prefix
// set, valued by value, which decodes each record once (many networks
// share one record) and returns noData for a record that decides
// nothing. It returns the set and how many networks it holds.
func readNetworks(ctx context.Context, r *maxminddb.Reader, value func(maxminddb.Result) (uint32, error)) (prefixSet, int, error) {
	// A first, decode-free pass sizes the slices exactly: growing them by
	// append would leave twice their size as garbage, and the peak during
	// a reload (old DB, file bytes, new DB) is what the memory budget has
	// to cover.
	var n4, n6 int
	for res := range r.Networks() {
		if res.Err() != nil {
			break // reported by the second pass
		}
		if res.Prefix().Addr().Is4() {
			n4++
		} else {
			n6++
		}
		if n4+n6 > maxNetworks {
			return prefixSet{}, 0, fmt.Errorf("more than %d networks", maxNetworks)
		}
	}
	if err := ctx.Err(); err != nil {
		return prefixSet{}, 0, err
	}
	b := newPrefixSetBuilder(n4, n6)
	byOffset := make(map[uintptr]uint32)
	seen, n := 0, 0
	for res := range r.Networks() {
		if err := res.Err(); err != nil {
			return prefixSet{}, 0, fmt.Errorf("read networks: %w", err)
		}
		if seen++; seen%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return prefixSet{}, 0, err
			}
		}
		v, ok := byOffset[res.Offset()]
		if !ok {
			var err error
			if v, err = value(res); err != nil {
				return prefixSet{}, 0, fmt.Errorf("decode record of %s: %w", res.Prefix(), err)
			}
			if len(byOffset) >= offsetCacheMax {
				clear(byOffset)
			}
			byOffset[res.Offset()] = v
		}
		if v == noData {
			continue
		}
		p := res.Prefix()
		if !p.IsValid() {
			return prefixSet{}, 0, fmt.Errorf("malformed network in search tree")
		}
		n++
		if err := b.add(p, v); err != nil {
			return prefixSet{}, 0, fmt.Errorf("search tree: %w", err)
		}
	}
	return b.finish(), n, nil
}

func build(ctx context.Context, r *maxminddb.Reader) (*DB, error) {
	db := &DB{info: DBInfo{
		Type:      r.Metadata.DatabaseType,
		BuildTime: r.Metadata.BuildTime(),
	}}
	type classKey struct {
		code      [2]byte
		continent int8
	}
	classOf := make(map[classKey]uint32)
	nets, n, err := readNetworks(ctx, r, func(res maxminddb.Result) (uint32, error) {
		var rec geoRecord
		if err := res.Decode(&rec); err != nil {
			return 0, err
		}
		key := classKey{countryOf(rec), int8(continentIndex(rec.Continent.Code))}
		if key == (classKey{continent: -1}) {
			return noData, nil
		}
		c, ok := classOf[key]
		if !ok {
			c = uint32(len(db.classes))
			classOf[key] = c
			db.classes = append(db.classes, newClass(key.code, key.continent))
		}
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	db.info.Networks = n
	if len(db.classes) == 0 {
		return nil, fmt.Errorf("database type %q has no country or continent data (want a GeoIP2/GeoLite2 Country or City database)",
			db.info.Type)
	}
	db.nets = nets
	db.info.Countries = fillContinents(db.classes)
	return db, nil
}

// countryOf returns the record's country, falling back to the registered
// country, which is all some networks (satellite and anycast providers,
// for example) have.
func countryOf(rec geoRecord) [2]byte {
	code := rec.Country.ISOCode
	if code == "" {
		code = rec.RegisteredCountry.ISOCode
	}
	if countryIndex(code) < 0 {
		return [2]byte{}
	}
	return [2]byte{code[0], code[1]}
}

func newClass(code [2]byte, continent int8) dbClass {
	c := dbClass{code: code, country: -1, continent: continent}
	if code != ([2]byte{}) {
		c.country = int16(countryIndex(string(code[:])))
	}
	return c
}

// fillContinents gives classes that know a country but not its continent
// (records with only registered_country carry no continent) the continent
// the same database gives that country elsewhere, so that they can still
// reach a continent region. It returns the number of distinct countries.
func fillContinents(classes []dbClass) int {
	var continentOf [numCountryIndexes]int8
	for i := range continentOf {
		continentOf[i] = -1
	}
	countries := 0
	for _, c := range classes {
		if c.country < 0 {
			continue
		}
		if continentOf[c.country] == -1 {
			countries++
			continentOf[c.country] = -2 // seen, continent unknown yet
		}
		if c.continent >= 0 {
			continentOf[c.country] = c.continent
		}
	}
	for i, c := range classes {
		if c.country >= 0 && c.continent < 0 && continentOf[c.country] >= 0 {
			classes[i].continent = continentOf[c.country]
		}
	}
	return countries
}
