package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/hooks"
)

// githubUser is a user object as GitHub's webhook payloads carry it.
func githubUser(login string, id int) map[string]any {
	base := "https://api.github.com/users/" + login
	return map[string]any{
		"name": login, "email": login + "@users.noreply.github.com", "login": login, "id": id,
		"node_id": fmt.Sprintf("MDQ6VXNlcj%07d", id), "avatar_url": fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", id),
		"gravatar_id": "", "url": base, "html_url": "https://github.com/" + login,
		"followers_url": base + "/followers", "following_url": base + "/following{/other_user}",
		"gists_url": base + "/gists{/gist_id}", "starred_url": base + "/starred{/owner}{/repo}",
		"subscriptions_url": base + "/subscriptions", "organizations_url": base + "/orgs",
		"repos_url": base + "/repos", "events_url": base + "/events{/privacy}",
		"received_events_url": base + "/received_events", "type": "User", "user_view_type": "public", "site_admin": false,
	}
}

// githubCommit is one commit of a push event.
func githubCommit(i int) map[string]any {
	id := fmt.Sprintf("%040x", 0x9f3c2a7e1b+i*7919)
	author := map[string]any{"name": "Mona Lisa Octocat", "email": "mona@github.com", "username": "octocat"}
	return map[string]any{
		"id": id, "tree_id": fmt.Sprintf("%040x", 0x51d2c0ffee+i*104729), "distinct": true,
		"message":   fmt.Sprintf("Fix race in the scheduler tick (#%d)\n\nThe tick advanced a hook before its claim was written, so an\noverlapping tick could fire the same slot twice. Write the claim first.\n\nCo-authored-by: Hubot <hubot@github.com>", 1200+i),
		"timestamp": fmt.Sprintf("2026-03-04T10:%02d:%02d+01:00", i%60, (i*7)%60),
		"url":       "https://github.com/octo-org/hello-world/commit/" + id,
		"author":    author, "committer": map[string]any{"name": "GitHub", "email": "noreply@github.com", "username": "web-flow"},
		"added":    []any{fmt.Sprintf("shared/hooks/tick_%d_test.go", i)},
		"removed":  []any{},
		"modified": []any{"shared/hooks/scheduler.go", "shared/hooks/fire.go", "README.md"},
	}
}

// githubPushPayload builds a GitHub push event as GitHub sends it (field
// names, URLs, ids and commit shapes from its webhook documentation), with
// commits added until the JSON reaches size bytes.
func githubPushPayload(size int) []byte {
	repo := "https://api.github.com/repos/octo-org/hello-world"
	repository := map[string]any{
		"id": 186853002, "node_id": "MDEwOlJlcG9zaXRvcnkxODY4NTMwMDI=", "name": "hello-world", "full_name": "octo-org/hello-world",
		"private": false, "owner": githubUser("octo-org", 6811672), "html_url": "https://github.com/octo-org/hello-world",
		"description": "My first repository on GitHub — with “quotes” and ünïcödé", "fork": false, "url": repo,
		"forks_url": repo + "/forks", "keys_url": repo + "/keys{/key_id}", "collaborators_url": repo + "/collaborators{/collaborator}",
		"teams_url": repo + "/teams", "hooks_url": repo + "/hooks", "issue_events_url": repo + "/issues/events{/number}",
		"events_url": repo + "/events", "assignees_url": repo + "/assignees{/user}", "branches_url": repo + "/branches{/branch}",
		"tags_url": repo + "/tags", "blobs_url": repo + "/git/blobs{/sha}", "git_tags_url": repo + "/git/tags{/sha}",
		"git_refs_url": repo + "/git/refs{/sha}", "trees_url": repo + "/git/trees{/sha}", "statuses_url": repo + "/statuses/{sha}",
		"languages_url": repo + "/languages", "stargazers_url": repo + "/stargazers", "contributors_url": repo + "/contributors",
		"subscribers_url": repo + "/subscribers", "subscription_url": repo + "/subscription", "commits_url": repo + "/commits{/sha}",
		"git_commits_url": repo + "/git/commits{/sha}", "comments_url": repo + "/comments{/number}",
		"issue_comment_url": repo + "/issues/comments{/number}", "contents_url": repo + "/contents/{+path}",
		"compare_url": repo + "/compare/{base}...{head}", "merges_url": repo + "/merges", "archive_url": repo + "/{archive_format}{/ref}",
		"downloads_url": repo + "/downloads", "issues_url": repo + "/issues{/number}", "pulls_url": repo + "/pulls{/number}",
		"milestones_url": repo + "/milestones{/number}", "notifications_url": repo + "/notifications{?since,all,participating}",
		"labels_url": repo + "/labels{/name}", "releases_url": repo + "/releases{/id}", "deployments_url": repo + "/deployments",
		"created_at": 1557933565, "updated_at": "2026-03-04T09:59:58Z", "pushed_at": 1772618400,
		"git_url": "git://github.com/octo-org/hello-world.git", "ssh_url": "git@github.com:octo-org/hello-world.git",
		"clone_url": "https://github.com/octo-org/hello-world.git", "svn_url": "https://github.com/octo-org/hello-world",
		"homepage": nil, "size": 59, "stargazers_count": 1, "watchers_count": 1, "language": "Go", "has_issues": true,
		"has_projects": true, "has_downloads": true, "has_wiki": true, "has_pages": false, "has_discussions": false,
		"forks_count": 1, "mirror_url": nil, "archived": false, "disabled": false, "open_issues_count": 2, "license": nil,
		"allow_forking": true, "is_template": false, "web_commit_signoff_required": false, "topics": []any{"ci", "hooks"},
		"visibility": "public", "forks": 1, "open_issues": 2, "watchers": 1, "default_branch": "main", "stargazers": 1,
		"master_branch": "main", "organization": "octo-org", "custom_properties": map[string]any{},
	}
	var commits []any
	payload := map[string]any{
		"ref": "refs/heads/main", "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
		"after": "0000000000000000000000000000000000000000", "repository": repository,
		"pusher": map[string]any{"name": "octocat", "email": "octocat@github.com"},
		"organization": map[string]any{"login": "octo-org", "id": 6811672, "node_id": "MDEyOk9yZ2FuaXphdGlvbjY4MTE2NzI=",
			"url": "https://api.github.com/orgs/octo-org", "repos_url": "https://api.github.com/orgs/octo-org/repos",
			"description": "Octo org"},
		"sender":  githubUser("octocat", 583231),
		"created": false, "deleted": false, "forced": false, "base_ref": nil,
		"compare": "https://github.com/octo-org/hello-world/compare/6113728f27ae...0000000000",
	}
	for i := 0; ; i++ {
		c := githubCommit(i)
		commits = append(commits, c)
		payload["commits"] = commits
		payload["head_commit"] = c
		payload["after"] = c["id"]
		data, err := json.Marshal(payload)
		if err != nil {
			panic(err)
		}
		if len(data) >= size {
			return data
		}
	}
}

// BenchmarkWebhookVerify measures what the webhook route adds to a fire:
// checking a GitHub signature over a 25 KB push event and parsing it into
// the template's payload. "rotation" has two secrets and the delivery
// signed with the second, so both are tried.
func BenchmarkWebhookVerify(b *testing.B) {
	body := githubPushPayload(25 << 10)
	for _, bc := range []struct {
		name    string
		secrets []string
	}{
		{"secret", []string{"new-secret-0123456789abcdef"}},
		{"rotation", []string{"new-secret-0123456789abcdef", "old-secret-fedcba9876543210"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cred := hooks.WebhookCredentials{GitHubSignature: githubSignature(bc.secrets[len(bc.secrets)-1], body)}
			now := time.Now()
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := hooks.VerifyDelivery(hooks.WebhookGitHub, bc.secrets, "", cred, body, now); err != nil {
					b.Fatal(err)
				}
				payload, _, err := parseWebhookPayload("application/json", body)
				if err != nil || len(payload) == 0 {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWebhookSignature is the signature check alone of a 25 KB
// GitHub push: one secret; two in rotation with the sender still on the
// old one, listed second, as the first delivery finds them; and the same
// once a delivery has verified, when the old secret is tried first
// (Intake.VerifyWebhook remembers it per hook).
func BenchmarkWebhookSignature(b *testing.B) {
	body := githubPushPayload(25 << 10)
	rotation := []string{"new-secret-0123456789abcdef", "old-secret-fedcba9876543210"}
	for _, bc := range []struct {
		name    string
		secrets []string
		first   string
	}{
		{"secret", rotation[:1], ""},
		{"rotation-first-delivery", rotation, ""},
		{"rotation", rotation, rotation[1]},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cred := hooks.WebhookCredentials{GitHubSignature: githubSignature(bc.secrets[len(bc.secrets)-1], body)}
			now := time.Now()
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := hooks.VerifyDeliveryFirst(hooks.WebhookGitHub, bc.secrets, bc.first, "", cred, body, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWebhookParseEncodingJSON is the same parse with encoding/json,
// for comparison.
func BenchmarkWebhookParseEncodingJSON(b *testing.B) {
	body := githubPushPayload(25 << 10)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := stdDecode(body); err != nil {
			b.Fatal(err)
		}
	}
}

// githubSignature is X-Hub-Signature-256 as GitHub computes it.
func githubSignature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}
