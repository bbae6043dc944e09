package sim

import (
	"math"
	"strconv"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/qoe"
)

// maxFedSessions bounds the sessions of one CDN in one region that are
// fed to the collector one by one. A region of 450,000 reporting
// viewers would be 45,000 reports a second, a thousand times what the
// rest of a step costs; 512 sessions already give the rebuffering share
// to a couple of points, and the collector's sketches count them
// exactly (linear counting below 1,280). The count each signal carries
// is then scaled back to the viewers the sessions stand for, so that
// the engine's confidence sees the audience, not the sample.
const maxFedSessions = 512

// videoOT is the object type the reports give: video.
var videoOT = []byte("v")

// cmcdFeed is the players that report CMCD: every step each CDN's
// viewers in a region × cmcd_share are sessions, each reporting once
// every report_interval to a real qoe.Collector (the one serve runs,
// configured with the policy's [qoe]), whose windows reach the engine
// every second, as serve pushes them.
type cmcdFeed struct {
	sc    *Scenario
	c     *qoe.Collector
	nC    int
	every int64 // steps between two reports of one session
	// sessions and propensity are cell × maxFedSessions: each fed
	// session's hash, and the draw under which it is among the sessions
	// rebuffering (it rebuffers while the share is above it).
	sessions   []uint64
	propensity []float64
	// scale is per cell the viewers each fed session stands for, as of
	// the last step the cell had any.
	scale   []float64
	cdnIdx  map[string]int
	regIdx  map[string]int
	cdnName [][]byte
	next    time.Time // the next push
	rep     qoe.Report
}

// newCMCDFeed returns the feed, or nil when no player reports.
func newCMCDFeed(sc *Scenario) *cmcdFeed {
	if sc.QoE.CMCDShare <= 0 {
		return nil
	}
	nR, nC := len(sc.Regions), len(sc.CDNs)
	f := &cmcdFeed{sc: sc, c: qoe.NewCollector(nil), nC: nC, next: sc.Start,
		every:    max(1, int64(sc.QoE.ReportInterval/sc.Step)),
		scale:    make([]float64, nR*nC),
		cdnIdx:   map[string]int{},
		regIdx:   map[string]int{},
		sessions: make([]uint64, nR*nC*maxFedSessions), propensity: make([]float64, nR*nC*maxFedSessions)}
	var topo qoe.Topology
	for ci, c := range sc.CDNs {
		topo.CDNs, topo.Pathways = append(topo.CDNs, c.Name), append(topo.Pathways, c.Name)
		f.cdnIdx[c.Name] = ci
		f.cdnName = append(f.cdnName, []byte(c.Name))
	}
	for ri, r := range sc.Regions {
		topo.Regions = append(topo.Regions, r.Name)
		f.regIdx[r.Name] = ri
	}
	f.c.Configure(sc.QoE.Collector, topo)
	// Session identities and propensities come from the seed alone, so
	// that a run is reproducible and the other streams stay as they were.
	seed := uint64(sc.Seed)
	var sid []byte
	for cell := range nR * nC {
		for i := range maxFedSessions {
			sid = strconv.AppendInt(append(strconv.AppendUint(append(sid[:0], "sim-"...), seed, 10), '-'), int64(cell*maxFedSessions+i), 10)
			h := qoe.Session(sid, nil)
			f.sessions[cell*maxFedSessions+i] = h
			f.propensity[cell*maxFedSessions+i] = float64(splitmix(h^seed*0x9e3779b97f4a7c15)>>11) / (1 << 53)
		}
	}
	return f
}

// report has the step's reporting sessions report, and pushes the
// collector's windows once a second.
func (f *cmcdFeed) report(st *Step, eng *health.Engine) {
	if f == nil {
		return
	}
	sc := f.sc
	q := &sc.QoE
	phase := st.Index % f.every
	for ri := range sc.Regions {
		for ci := range sc.CDNs {
			reporting := math.Round(float64(st.Viewers[ri][ci]) * q.CMCDShare)
			fed := int(min(reporting, maxFedSessions))
			if fed == 0 {
				continue
			}
			cell := ri*f.nC + ci
			f.scale[cell] = reporting / float64(fed)
			rebuffer, startup := f.truth(st, ri, ci)
			base := cell * maxFedSessions
			for i := int(phase); i < fed; i += int(f.every) {
				// A time-interval report of a video session: whether its
				// buffer ran dry since the last one, its start-up delay.
				f.rep = qoe.Report{CDN: f.cdnName[ci], OT: videoOT, Starved: f.propensity[base+i] < rebuffer,
					MSD: int64(math.Round(startup)), MTP: -1, TTFB: -1, RC: -1}
				f.c.Add(&f.rep, f.sessions[base+i], ri, ci, st.Time)
			}
		}
	}
	if st.Time.Before(f.next) {
		return
	}
	f.next = st.Time.Add(time.Second)
	sigs := f.c.Flush(st.Time)
	for i := range sigs {
		s := &sigs[i]
		ri, ok1 := f.regIdx[s.Region]
		ci, ok2 := f.cdnIdx[s.CDN]
		if ok1 && ok2 {
			s.Samples = max(1, int(math.Round(float64(s.Samples)*f.scale[ri*f.nC+ci])))
		}
	}
	eng.Push(sigs...)
}

// truth is the share of sessions rebuffering and the start-up time of
// CDN ci's players in region ri: the scenario's healthy values, worsened
// by the faults in force, and traffic the CDN cannot deliver starving
// that share of its players.
func (f *cmcdFeed) truth(st *Step, ri, ci int) (rebuffer, startup float64) {
	q := &f.sc.QoE
	rebuffer, startup = q.RebufferRatio, q.StartupMs
	for fi := range f.sc.Faults {
		if ft := &f.sc.Faults[fi]; ft.covers(ci, ri, int64(st.Elapsed)) {
			rebuffer, startup = max(rebuffer, ft.RebufferRatio), max(startup, ft.StartupMs)
		}
	}
	if st.Saturated[ri][ci] && st.DemandGbps[ri][ci] > 0 {
		rebuffer = max(rebuffer, 1-st.DeliveredGbps[ri][ci]/st.DemandGbps[ri][ci])
	}
	return rebuffer, startup
}

// splitmix is SplitMix64's finaliser: a well-mixed uniform from a hash.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
