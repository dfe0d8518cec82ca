package hooks

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// The `notify` section of a hook's settings: which of its events go to
// which targets (schemas/hookline/v1/notify-settings.json).

// The kinds of notification targets.
const (
	// TargetEmail: an email from Hookline itself (SES on AWS, the outbox
	// file under `hookline serve`).
	TargetEmail = "email"
	// TargetTaskclusterEmail, TargetMatrix, TargetSlack: through the
	// notify service of the Taskcluster deployment.
	TargetTaskclusterEmail = "taskcluster-email"
	TargetMatrix           = "taskcluster-matrix"
	TargetSlack            = "taskcluster-slack"
	// TargetWebhook: a signed JSON POST.
	TargetWebhook = "webhook"
)

// Bounds of the notify section.
const (
	maxNotifyTargets           = 10
	maxNotifyPerHour           = 60
	defaultSignatureFailureMax = 10
	defaultSignatureWindow     = 600
)

// NotifySettings say which of a hook's events go to which targets.
type NotifySettings struct {
	Targets []NotifyTarget `json:"targets"`
	// SignatureFailures is when refused webhook deliveries become an
	// event; nil means more than 10 within 10 minutes.
	SignatureFailures *SignatureFailureRule `json:"signatureFailures,omitempty"`
}

// SignatureFailureRule: more than Max refused deliveries within
// WindowSeconds, counted by each server process, are an event.
type SignatureFailureRule struct {
	Max           int `json:"max"`
	WindowSeconds int `json:"windowSeconds"`
}

// NotifyTarget is one place notifications go, and the events it hears of.
type NotifyTarget struct {
	Type      string      `json:"type"`
	Events    []EventKind `json:"events"`
	Address   string      `json:"address,omitempty"`
	RoomID    string      `json:"roomId,omitempty"`
	ChannelID string      `json:"channelId,omitempty"`
	URL       string      `json:"url,omitempty"`
	// Secret signs webhook notifications; write-only in the API.
	Secret string `json:"secret,omitempty"`
	// SecretFingerprint is shown instead of Secret; ignored on a put.
	SecretFingerprint string `json:"secretFingerprint,omitempty"`
	// MaxPerHour bounds the notifications of one kind of event an hour;
	// 0 means 1.
	MaxPerHour int `json:"maxPerHour,omitempty"`
}

// NotifyView is NotifySettings as the API shows them: webhook secrets
// fingerprinted.
type NotifyView = NotifySettings

// View returns the section as the API shows it, nil for none.
func (n *NotifySettings) View() *NotifyView {
	if n == nil {
		return nil
	}
	v := &NotifyView{SignatureFailures: n.SignatureFailures, Targets: make([]NotifyTarget, len(n.Targets))}
	for i, t := range n.Targets {
		t.Events = slices.Clone(t.Events)
		if t.Secret != "" {
			t.SecretFingerprint, t.Secret = SecretFingerprint(t.Secret), ""
		}
		v.Targets[i] = t
	}
	return v
}

// wants reports whether the target hears of kind.
func (t NotifyTarget) wants(kind EventKind) bool { return slices.Contains(t.Events, kind) }

// perHour is the target's rate limit.
func (t NotifyTarget) perHour() int { return max(t.MaxPerHour, 1) }

// destination is where the target sends, as notifications record it.
func (t NotifyTarget) destination() string {
	switch t.Type {
	case TargetEmail, TargetTaskclusterEmail:
		return t.Address
	case TargetMatrix:
		return t.RoomID
	case TargetSlack:
		return t.ChannelID
	}
	return t.URL
}

// Key names the target in claims and notifications: its type and
// destination, hashed, so a target keeps its name (and its rate limit)
// while other targets are added or removed around it.
func (t NotifyTarget) Key() string {
	sum := sha256.Sum256([]byte(t.Type + "\x00" + t.destination()))
	return t.Type + "-" + hex.EncodeToString(sum[:6])
}

// signatureRule is the threshold of webhook-signature-failures.
func (n *NotifySettings) signatureRule() SignatureFailureRule {
	if n != nil && n.SignatureFailures != nil {
		return *n.SignatureFailures
	}
	return SignatureFailureRule{Max: defaultSignatureFailureMax, WindowSeconds: defaultSignatureWindow}
}

// checkNotifyAndHistory checks the notify and history sections of a put.
func checkNotifyAndHistory(in Settings) error {
	if h := in.History; h != nil && h.MaxRecords < 1 {
		return invalid("history.maxRecords must be at least 1")
	}
	n := in.Notify
	if n == nil {
		return nil
	}
	if len(n.Targets) == 0 || len(n.Targets) > maxNotifyTargets {
		return invalid("notify.targets must list 1 to %d targets", maxNotifyTargets)
	}
	if r := n.SignatureFailures; r != nil && (r.Max < 1 || r.WindowSeconds < 60 || r.WindowSeconds > 86400) {
		return invalid("notify.signatureFailures needs max of at least 1 and windowSeconds from 60 to 86400")
	}
	seen := map[string]int{}
	for i, t := range n.Targets {
		if err := checkTarget(t); err != nil {
			return invalid("notify.targets[%d]: %s", i, err)
		}
		if j, dup := seen[t.Key()]; dup {
			return invalid("notify.targets[%d] repeats notify.targets[%d] (%s %s): list a destination once, with all its events", i, j, t.Type, t.destination())
		}
		seen[t.Key()] = i
	}
	return nil
}

func checkTarget(t NotifyTarget) error {
	if len(t.Events) == 0 {
		return fmt.Errorf("events must name at least one of %s", kindList())
	}
	for i, k := range t.Events {
		if !slices.Contains(EventKinds(), k) {
			return fmt.Errorf("events[%d] %q is not one of %s", i, k, kindList())
		}
		if slices.Index(t.Events, k) != i {
			return fmt.Errorf("events[%d] repeats %q", i, k)
		}
	}
	if t.MaxPerHour < 0 || t.MaxPerHour > maxNotifyPerHour {
		return fmt.Errorf("maxPerHour must be from 1 to %d", maxNotifyPerHour)
	}
	// Each type takes its destination and nothing else.
	given := map[string]bool{"address": t.Address != "", "roomId": t.RoomID != "", "channelId": t.ChannelID != "", "url": t.URL != "", "secret": t.Secret != ""}
	var needs []string
	switch t.Type {
	case TargetEmail, TargetTaskclusterEmail:
		needs = []string{"address"}
		if at := strings.LastIndexByte(t.Address, '@'); at < 1 || at == len(t.Address)-1 || strings.ContainsAny(t.Address, " \t\r\n,;<>") || len(t.Address) > 254 {
			return fmt.Errorf("address %q is not an email address", t.Address)
		}
	case TargetMatrix:
		needs = []string{"roomId"}
		if !strings.HasPrefix(t.RoomID, "!") || !strings.Contains(t.RoomID, ":") || strings.ContainsAny(t.RoomID, " \t\r\n") {
			return fmt.Errorf("roomId %q is not a Matrix room id such as !abcdef:example.org", t.RoomID)
		}
	case TargetSlack:
		needs = []string{"channelId"}
		if len(t.ChannelID) < 5 || len(t.ChannelID) > 20 || strings.Trim(t.ChannelID, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
			return fmt.Errorf("channelId %q is not a Slack channel id such as C0123ABCD", t.ChannelID)
		}
	case TargetWebhook:
		needs = []string{"url", "secret"}
		if err := checkWebhookURL(t.URL); err != nil {
			return err
		}
		given["secret"] = true // may be kept from the stored target
		if t.Secret != "" && (len(t.Secret) < minSecretLength || len(t.Secret) > maxSecretLength) {
			return fmt.Errorf("secret must be %d to %d characters long", minSecretLength, maxSecretLength)
		}
	default:
		return fmt.Errorf("type %q is not one of %s, %s, %s, %s, %s", t.Type, TargetEmail, TargetTaskclusterEmail, TargetMatrix, TargetSlack, TargetWebhook)
	}
	for _, field := range []string{"address", "roomId", "channelId", "url", "secret"} {
		switch {
		case slices.Contains(needs, field) && !given[field]:
			return fmt.Errorf("a %s target needs %s", t.Type, field)
		case !slices.Contains(needs, field) && given[field]:
			return fmt.Errorf("a %s target takes no %s", t.Type, field)
		}
	}
	return nil
}

// checkWebhookURL accepts https:// URLs, and http:// to the local machine
// for trying things out. Where the URL may lead is checked again when it
// is called (the sender refuses private addresses unless configured to
// allow them).
func checkWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("url %q is not an absolute URL", raw)
	}
	if u.User != nil {
		return fmt.Errorf("url must not carry credentials: the notification is signed with the target's secret")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if h := u.Hostname(); h != "localhost" && !isLoopback(h) {
			return fmt.Errorf("url %q must be https:// (http:// only to localhost)", raw)
		}
	default:
		return fmt.Errorf("url %q must be https://", raw)
	}
	if u.Fragment != "" {
		return fmt.Errorf("url must not have a #fragment")
	}
	return nil
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func kindList() string {
	var names []string
	for _, k := range EventKinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// mergeNotifyAndHistory puts the notify and history sections of a put
// into next: a webhook target without its secret keeps the stored one of
// the target with the same URL; a history cap may not pass the service's.
func (o *Operations) mergeNotifyAndHistory(next *Settings, current, in Settings) error {
	if h := in.History; h != nil {
		if h.MaxRecords > o.historyMax {
			return invalid("history.maxRecords may be at most %d, the service's cap (HOOKLINE_HISTORY_MAX_PER_HOOK)", o.historyMax)
		}
		next.History = &HistorySettings{MaxRecords: h.MaxRecords}
	}
	if in.Notify == nil {
		return nil
	}
	n := &NotifySettings{SignatureFailures: in.Notify.SignatureFailures}
	for i, t := range in.Notify.Targets {
		t.Events = slices.Clone(t.Events)
		t.SecretFingerprint = ""
		if t.Type == TargetWebhook && t.Secret == "" {
			if current.Notify != nil {
				for _, old := range current.Notify.Targets {
					if old.Type == TargetWebhook && old.URL == t.URL {
						t.Secret = old.Secret
					}
				}
			}
			if t.Secret == "" {
				return invalid("notify.targets[%d]: a webhook target needs a secret (16 to 256 characters) to sign its notifications", i)
			}
		}
		n.Targets = append(n.Targets, t)
	}
	next.Notify = n
	return nil
}

// checkNotify names, in a pre-check, the scopes Hookline's Taskcluster
// client needs for the hook's taskcluster-* targets, and warns of targets
// this deployment cannot send to.
func (c *Checker) checkNotify(st Settings, rep *CheckReport) {
	if st.Notify == nil {
		return
	}
	for _, t := range st.Notify.Targets {
		var scope string
		switch t.Type {
		case TargetTaskclusterEmail:
			scope = "notify:email:" + t.Address
		case TargetMatrix:
			scope = "notify:matrix-room:" + t.RoomID
		case TargetSlack:
			scope = "notify:slack-channel:" + t.ChannelID
		default:
			continue
		}
		rep.NotifyScopes = append(rep.NotifyScopes, scope)
		if !c.notifyDeployment {
			rep.warn(WarnNotify, "the %s target %s cannot be sent: no Taskcluster deployment is configured (TASKCLUSTER_ROOT_URL); its notifications will be undeliverable", t.Type, t.destination())
		}
	}
	if len(rep.NotifyScopes) > 0 && c.notifyDeployment {
		rep.warn(WarnNotify, "Hookline's Taskcluster client must hold %s to send this hook's notifications through the notify service; without it they are undeliverable (403)", strings.Join(rep.NotifyScopes, ", "))
	}
}
