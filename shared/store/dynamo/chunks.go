package dynamo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A hook definition larger than inlineMax does not fit one DynamoDB item
// (400 KB), so it is split into chunk items of chunkSize bytes in a
// partition of the hook's own (doc.go, "Large hooks"). The hook's item,
// the head, names the chunks' generation and count instead of holding the
// definition. Writers put a new generation's chunks first and the head
// after, conditional as before, and delete the generation the head named
// before only once the head no longer names it: a reader that finds the
// head always finds its chunks, unless a writer replaced the head between
// the reader's two reads, which the reader notices (a chunk is missing)
// and answers by reading again. A crash between the two writes leaves
// only chunks no head names, never a hook without its definition.
const (
	inlineMax = 350 << 10
	chunkSize = 350 << 10
	// maxChunkRereads bounds how often a read starts over because a
	// writer replaced the chunks it was reading.
	maxChunkRereads = 5
)

// A writer that stopped between its chunks and its head (a crash, a
// timeout) leaves chunks no head names. The hook's next write that
// replaces its chunks, and its delete, delete them: every generation in
// the hook's chunk partition older than leftoverAge that the head does
// not name. That is safe because no writer names a generation in a head
// later than headWriteWindow after the generation began (putChunks gives
// up instead), and an unchanged update names only the generation the head
// names already, conditional on the head still naming it. Generations
// begin with their time, so the query reads only the old ones.
const (
	headWriteWindow = 30 * time.Minute
	leftoverAge     = 2 * headWriteWindow
)

// Attributes of a chunked head (a hook's, a claim's).
const (
	attrChunks   = "chunks"
	attrChunkGen = "chunkGen"
	// attrDigest holds the SHA-256 of what the chunks hold; a head
	// written before hooks kept it has none.
	attrDigest = "digest"
)

// chunkRef names the chunks of one generation of a hook's definition (a
// claim's body); n is 0 for a definition held inline.
type chunkRef struct {
	gen string
	n   int
	// digest is bodyDigest of what the chunks hold; nil when unknown.
	digest []byte
}

func bodyDigest(b []byte) []byte {
	d := sha256.Sum256(b)
	return d[:]
}

func chunkPK(hookGroupID, hookID string) string {
	return hookPartition("CHUNK", hookGroupID, hookID)
}

// claimChunkPK is the partition of a claim's chunks. Hook chunk
// partitions go on with the group id's length, a number, so the two never
// meet.
func claimChunkPK(k string) string { return "CHUNK#CLAIM#" + k }

func chunkKey(pk string, ref chunkRef, i int) map[string]types.AttributeValue {
	return key(pk, ref.gen+"#"+fmt.Sprintf("%04d", i))
}

// newChunkRef names a new generation of n chunks. Generations start with
// the time, so that an operator can tell old leftovers at a glance, and
// end with randomness, so that two writers never share one.
func newChunkRef(began time.Time, n int) chunkRef {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return chunkRef{gen: genPrefix(began) + "-" + hex.EncodeToString(b[:]), n: n}
}

// genPrefix is the start of a generation begun at t. It has 12 digits
// from 1973 to 2119, so string order is time order.
func genPrefix(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 36) }

// errChunkMissing is a chunk the head names that is gone: a writer
// replaced the head since it was read.
var errChunkMissing = errors.New("a chunk of the hook's definition is missing")

// putChunks writes def as the chunks of a new generation in partition pk
// and returns it; a definition of at most inlineMax bytes has none (the
// zero chunkRef). Chunks with an expiry (a claim's) carry it for the
// table's TTL.
func (s *Store) putChunks(ctx context.Context, pk string, def []byte, expires time.Time) (chunkRef, error) {
	if len(def) <= inlineMax {
		return chunkRef{}, nil
	}
	began := s.now()
	ref := newChunkRef(began, (len(def)+chunkSize-1)/chunkSize)
	ref.digest = bodyDigest(def)
	reqs := make([]types.WriteRequest, 0, ref.n)
	for i := range ref.n {
		item := chunkKey(pk, ref, i)
		item[attrBody] = avB(def[i*chunkSize : min(len(def), (i+1)*chunkSize)])
		putExpiry(item, expires)
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	// A request may carry 16 MB: a few chunks per call at most.
	const perCall = 16
	for len(reqs) > 0 {
		n := min(len(reqs), perCall)
		if err := s.batchWrite(ctx, reqs[:n]); err != nil {
			return chunkRef{}, fmt.Errorf("write chunks: %w", err)
		}
		reqs = reqs[n:]
	}
	if s.now().Sub(began) > headWriteWindow {
		// The hook's other writers may count these chunks as leftovers
		// soon: no head may name them.
		err := fmt.Errorf("writing the chunks took over %v", headWriteWindow)
		if derr := s.dropChunks(ctx, pk, ref); derr != nil {
			err = fmt.Errorf("%w (and deleting them: %w)", err, derr)
		}
		return chunkRef{}, err
	}
	return ref, nil
}

// putHeadChunks names ref's chunks, and their digest, in the head item.
func putHeadChunks(item map[string]types.AttributeValue, ref chunkRef) {
	item[attrChunks] = avN(strconv.Itoa(ref.n))
	item[attrChunkGen] = avS(ref.gen)
	if ref.digest != nil {
		item[attrDigest] = avB(ref.digest)
	}
}

// dropChunks deletes the chunks of ref, if it has any.
func (s *Store) dropChunks(ctx context.Context, pk string, ref chunkRef) error {
	for i := 0; i < ref.n; i += batchWriteMax {
		keys := make([]map[string]types.AttributeValue, 0, batchWriteMax)
		for j := i; j < min(ref.n, i+batchWriteMax); j++ {
			keys = append(keys, chunkKey(pk, ref, j))
		}
		if err := s.batchDelete(ctx, keys); err != nil {
			return fmt.Errorf("delete chunks: %w", err)
		}
	}
	return nil
}

// dropLeftoverChunks deletes the chunks in hook chunk partition pk of the
// generations begun over leftoverAge ago, but for generation keep, the one
// the hook's head names ("" for none). A writer calls it after it replaced
// or deleted the head; it finds nothing unless a writer stopped between
// its chunks and its head.
func (s *Store) dropLeftoverChunks(ctx context.Context, pk, keep string) error {
	in := &dynamodb.QueryInput{
		TableName:                s.table,
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk < :cutoff"),
		ProjectionExpression:     aws.String("#sk"),
		ExpressionAttributeNames: names(attrPK, attrSK),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     avS(pk),
			":cutoff": avS(genPrefix(s.now().Add(-leftoverAge))),
		},
	}
	var keys []map[string]types.AttributeValue
	for {
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return mapErr(err)
		}
		for _, item := range out.Items {
			sk, err := getS(item, attrSK)
			if err != nil {
				return err
			}
			if gen, _, _ := strings.Cut(sk, "#"); gen != keep {
				keys = append(keys, key(pk, sk))
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	for len(keys) > 0 {
		n := min(len(keys), batchWriteMax)
		if err := s.batchDelete(ctx, keys[:n]); err != nil {
			return fmt.Errorf("delete leftover chunks: %w", err)
		}
		keys = keys[n:]
	}
	return nil
}

// readChunks returns the definition the chunks of ref hold, or
// errChunkMissing.
func (s *Store) readChunks(ctx context.Context, pk string, ref chunkRef) ([]byte, error) {
	keys := make([]map[string]types.AttributeValue, 0, ref.n)
	for i := range ref.n {
		keys = append(keys, chunkKey(pk, ref, i))
	}
	parts := make([][]byte, ref.n)
	err := s.batchGet(ctx, keys, func(item map[string]types.AttributeValue) error {
		sk, err := getS(item, attrSK)
		if err != nil {
			return err
		}
		if len(sk) != len(ref.gen)+5 {
			return fmt.Errorf("chunk %q is not one of generation %s", sk, ref.gen)
		}
		i, err := strconv.Atoi(sk[len(sk)-4:])
		if err != nil || i < 0 || i >= ref.n {
			return fmt.Errorf("chunk %q is not one of generation %s", sk, ref.gen)
		}
		parts[i], err = getB(item, attrBody)
		return err
	})
	if err != nil {
		return nil, err
	}
	total := 0
	for _, p := range parts {
		if p == nil {
			return nil, errChunkMissing
		}
		total += len(p)
	}
	def := make([]byte, 0, total)
	for _, p := range parts {
		def = append(def, p...)
	}
	return def, nil
}

// headChunks reads the chunk reference of a head item (a hook's, a
// claim's).
func headChunks(item map[string]types.AttributeValue) (chunkRef, error) {
	if _, ok := item[attrChunks]; !ok {
		return chunkRef{}, nil
	}
	n, err := getN(item, attrChunks)
	if err != nil {
		return chunkRef{}, err
	}
	gen, err := getS(item, attrChunkGen)
	if err != nil {
		return chunkRef{}, err
	}
	if n <= 0 || gen == "" {
		return chunkRef{}, fmt.Errorf("head names %d chunks of generation %q", n, gen)
	}
	digest, err := getB(item, attrDigest)
	if err != nil {
		return chunkRef{}, err
	}
	return chunkRef{gen: gen, n: int(n), digest: digest}, nil
}
