package health

import (
	"fmt"
	"math"
	"reflect"
	"strings"
)

// index is the engine's state for the policy in force by position, the
// config's policy, region and CDN indices, instead of by name: an
// evaluation of 1,000 policies of 20 regions and 6 CDNs looked up each of
// its 120,000 states in maps keyed by three strings several times over
// (issue 22). The maps stay the state's home — kept by name across a
// reload, read by name by the view and restore — and the index holds the
// same pointers, every entry of the config created when it is built. It
// is rebuilt after SetConfig; the store's part is refreshed at every
// evaluation, since pushes add to the store between them.
type index struct {
	nR, nC  int
	cdns    []*cdnState      // (pi*nR+ri)*nC+ci
	blinds  []*blindState    // (pi*nR+ri)*nC+ci
	regions []*regionState   // pi*nR+ri
	caps    []*capacityState // pi*nR+ri
	loads   []*cdnLoad       // pi*nC+ci
	commits []float64        // ri*nC+ci: RegionCommitGbps
	// baseShares are each policy's baseline as shares, by region.
	baseShares [][][]float64

	// Policies whose readings and evidence are alike share them (see
	// shared below): eclass groups them by signal_max_age and
	// min_samples, the only parameters evidence reads; jclass by their
	// whole Params, equal bit for bit, for scores and verdicts. -1: a
	// policy alone in its class computes its own.
	eclass, jclass []int
	// evid and judged hold one evaluation's shared results, by class,
	// region, CDN and whether the CDN's evidence is shrunk (it is not
	// degraded): readings and evidence by eclass, scores and verdicts by
	// jclass (policies equal in every parameter are alike in the two
	// that evidence reads, so a jclass's readings are shared too).
	evid   []sharedEvidence
	judged []sharedVerdict

	// reads are the store's readings by region and CDN ((ri+1)*nC+ci;
	// ri = -1 for all regions), held the capacity step's last fresh
	// throughputs the same way: the evaluation under way's.
	reads []*reading
	held  []*heldGbps
	// allocs are the capacity step's allocations of the evaluation
	// under way (allocate_memo.go).
	allocs allocMemo
	// scratch is the capacity step's allocation, demand its measured
	// demand (missing measureDemand's scratch), shares its plan's split:
	// each reused from policy to policy (scratch.go).
	scratch *allocation
	demand  demand
	missing []float64
	shares  [][]float64
	// weights is scratch for a region's new weights, copied when they
	// moved (Weights.orEqual).
	weights []float64
	// answered is the answers' shares of the last evaluation (stall.go);
	// nil until asked for after it.
	answered *answeredShares
}

// sharedEvidence is what every policy of an eclass reads alike of one
// CDN in one region at one evaluation; sharedVerdict what every policy
// of a jclass scores and judges alike (the verdict by whether the CDN is
// loaded). Each is computed by the first policy that needs it.
type sharedEvidence struct {
	done     bool
	readings Readings
	ev       *evidence
}

type sharedVerdict struct {
	scored  bool
	raw     float64
	rawOK   bool
	judged  [2]bool
	verdict [2]verdict
}

// slot is the position of a CDN's shared results in its region for a
// class.
func (ix *index) slot(class, ri, ci int, shrink bool) int {
	s := ((class*ix.nR+ri)*ix.nC + ci) * 2
	if shrink {
		s++
	}
	return s
}

func (ix *index) cdn(pi, ri, ci int) *cdnState { return ix.cdns[(pi*ix.nR+ri)*ix.nC+ci] }

func (ix *index) blind(pi, ri, ci int) *blindState { return ix.blinds[(pi*ix.nR+ri)*ix.nC+ci] }

func (ix *index) region(pi, ri int) *regionState { return ix.regions[pi*ix.nR+ri] }

func (ix *index) capacity(pi, ri int) *capacityState { return ix.caps[pi*ix.nR+ri] }

func (ix *index) load(pi, ci int) *cdnLoad { return ix.loads[pi*ix.nC+ci] }

// commit is CDN ci's commit of its own in region ri (0: none).
func (ix *index) commit(ri, ci int) float64 { return ix.commits[ri*ix.nC+ci] }

// read is the store's reading of CDN ci in region ri (-1: all regions).
func (ix *index) read(ri, ci int) *reading { return ix.reads[(ri+1)*ix.nC+ci] }

// indexed returns the index of the config in force, building it first
// when there is none.
func (e *Engine) indexed() *index {
	if e.ix != nil {
		return e.ix
	}
	nP, nR, nC := len(e.cfg.Policies), len(e.cfg.Regions), len(e.cfg.CDNs)
	ix := &index{nR: nR, nC: nC,
		cdns: make([]*cdnState, nP*nR*nC), blinds: make([]*blindState, nP*nR*nC),
		regions: make([]*regionState, nP*nR), caps: make([]*capacityState, nP*nR), loads: make([]*cdnLoad, nP*nC),
		reads: make([]*reading, (nR+1)*nC), held: make([]*heldGbps, (nR+1)*nC), commits: make([]float64, nR*nC)}
	for ri, region := range e.cfg.Regions {
		for ci, cdn := range e.cfg.CDNs {
			ix.commits[ri*nC+ci] = e.cfg.RegionCommitGbps[cdn.Name][region]
		}
	}
	ix.baseShares = make([][][]float64, nP)
	for pi := range e.cfg.Policies {
		ix.baseShares[pi] = matrix[float64](nR, nC)
		for ri, base := range e.cfg.Policies[pi].Baseline {
			if len(base) == nC {
				sharesInto(ix.baseShares[pi][ri], base)
			} else {
				ix.baseShares[pi][ri] = shares(base)
			}
		}
		pol := e.cfg.Policies[pi].Name
		for ri, region := range e.cfg.Regions {
			ix.regions[pi*nR+ri] = e.regionState(pol, region)
			ix.caps[pi*nR+ri] = e.capacityState(pol, region)
			for ci, cdn := range e.cfg.CDNs {
				ix.cdns[(pi*nR+ri)*nC+ci] = e.cdnState(pol, region, cdn.Name)
				ix.blinds[(pi*nR+ri)*nC+ci] = e.blindState(pol, region, cdn.Name)
			}
		}
		for ci, cdn := range e.cfg.CDNs {
			ix.loads[pi*nC+ci] = e.cdnLoad(pol, cdn.Name)
		}
	}
	var nE, nJ int
	ix.eclass, nE = classes(e.cfg.Policies, func(p *PolicyInfo) string {
		return fmt.Sprint(int64(p.Params.SignalMaxAge), " ", p.Params.MinSamples)
	})
	ix.jclass, nJ = classes(e.cfg.Policies, func(p *PolicyInfo) string { return paramsBits(p.Params) })
	ix.evid, ix.judged = make([]sharedEvidence, nE*nR*nC*2), make([]sharedVerdict, nJ*nR*nC*2)
	e.ix = ix
	return ix
}

// classes numbers the groups of policies that key gives the same string,
// counting only groups of two or more; the others get -1.
func classes(pols []PolicyInfo, key func(*PolicyInfo) string) ([]int, int) {
	keys := make([]string, len(pols))
	count := map[string]int{}
	for i := range pols {
		keys[i] = key(&pols[i])
		count[keys[i]]++
	}
	ids := map[string]int{}
	out := make([]int, len(pols))
	for i, k := range keys {
		out[i] = -1
		if count[k] < 2 {
			continue
		}
		id, ok := ids[k]
		if !ok {
			id = len(ids)
			ids[k] = id
		}
		out[i] = id
	}
	return out, len(ids)
}

// paramsBits writes every field of p as its bits: two policies share
// scores and verdicts only when nothing in their parameters differs, not
// even the sign of a zero.
func paramsBits(p Params) string {
	var b strings.Builder
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				walk(v.Field(i))
			}
		case reflect.Array, reflect.Slice:
			fmt.Fprintf(&b, "[%d:", v.Len())
			for i := range v.Len() {
				walk(v.Index(i))
			}
			b.WriteByte(']')
		case reflect.Float32, reflect.Float64:
			fmt.Fprintf(&b, "f%x,", math.Float64bits(v.Float()))
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			fmt.Fprintf(&b, "i%d,", v.Int())
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			fmt.Fprintf(&b, "u%d,", v.Uint())
		case reflect.Bool:
			fmt.Fprintf(&b, "b%t,", v.Bool())
		case reflect.String:
			fmt.Fprintf(&b, "s%q,", v.String())
		default:
			// A pointer, map or func would compare by address: a new
			// field of such a kind must be written out here before
			// policies can share by it.
			panic(fmt.Sprintf("health: paramsBits cannot compare a %s", v.Kind()))
		}
	}
	walk(reflect.ValueOf(p))
	return b.String()
}

// matrix is nR rows of nC zeroes, in one block.
// shaped is a zeroed matrix shaped like m (its rows' lengths), in one
// block like matrix's.
func shaped[T any, U any](m [][]U) [][]T {
	n := 0
	for _, row := range m {
		n += len(row)
	}
	block := make([]T, n)
	out := make([][]T, len(m))
	at := 0
	for r, row := range m {
		out[r] = block[at : at+len(row) : at+len(row)]
		at += len(row)
	}
	return out
}

func matrix[T any](nR, nC int) [][]T {
	block := make([]T, nR*nC)
	out := make([][]T, nR)
	for r := range out {
		out[r] = block[r*nC : (r+1)*nC : (r+1)*nC]
	}
	return out
}

// refresh readies the index for an evaluation: the store's readings and
// the held throughputs as they are now, nothing shared yet.
func (ix *index) refresh(e *Engine) {
	for ri := -1; ri < ix.nR; ri++ {
		region := ""
		if ri >= 0 {
			region = e.cfg.Regions[ri]
		}
		for ci, cdn := range e.cfg.CDNs {
			k := storeKey{cdn.Name, region}
			ix.reads[(ri+1)*ix.nC+ci] = e.store[k]
			ix.held[(ri+1)*ix.nC+ci] = e.capacity.held[k]
		}
	}
	clear(ix.evid)
	clear(ix.judged)
	clear(ix.allocs.byHash)
}
