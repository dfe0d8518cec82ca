package dynamo

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names. Expressions always refer to them through expression
// attribute names, so none of them can clash with a reserved word.
const (
	attrPK         = "pk"
	attrSK         = "sk"
	attrDef        = "def"
	attrToken      = "token"
	attrNextTaskID = "nextTaskId"
	attrNextAt     = "nextAt"
	attrNextSlot   = "nextSlot"
	attrSchedKey   = "scheduleKey"
	attrVersion    = "ver"
	attrDueShard   = "dueShard"
	attrDueAt      = "dueAt"
	attrBody       = "body"
	attrCreatedAt  = "createdAt"
	attrExpiry     = "expiry"
	attrExpiresAt  = "expiresAt"
	attrFiredBy    = "firedBy"
	attrTaskID     = "taskId"
	attrResult     = "result"
	attrError      = "error"
	// Fire records' outcome and the history counts (history.go).
	attrDecisionID   = "decisionId"
	attrTaskState    = "taskState"
	attrTaskReason   = "taskReason"
	attrTaskRunID    = "taskRunId"
	attrTaskResolved = "taskResolved"
	attrCheckAt      = "checkAt"
	attrChecks       = "checks"
	attrFires        = "fires"
	attrDecisions    = "decisions"
	attrCounted      = "counted"
)

// DueIndex is the name of the sparse global secondary index over scheduled
// hooks.
const DueIndex = "due"

// dueShard is the only shard of the due index for scheduled hooks (see
// the package doc). The index's other shards list other records that come
// due: awaited fire records and notifications (history.go,
// notifications.go); ListDue reads only its own.
const dueShard = "due"

// TTLAttribute returns the name of the attribute DynamoDB's time to live must
// be enabled on: a Number holding epoch seconds, set on claims and fire
// records that expire.
func TTLAttribute() string { return attrExpiresAt }

// TableDefinition returns the CreateTable input for a Hookline table named
// table: keys, the due index and on-demand billing. It is the single source
// of truth for the schema; tests create tables from it and compare
// template.yaml against it. Time to live is set separately (TTLAttribute).
func TableDefinition(table string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrSK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrDueShard), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrDueAt), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(DueIndex),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(attrDueShard), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(attrDueAt), KeyType: types.KeyTypeRange},
			},
			// ListDue re-reads every hook with a consistent read, so the
			// index needs only the table keys.
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}},
	}
}
