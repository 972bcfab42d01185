"""Static catalogues: intents, bots, models, channels, locales and text templates."""

from __future__ import annotations

from dataclasses import dataclass

from chatbatch.contract import contract


def codes(values: tuple[str, ...]) -> dict[str, int]:
    """Each value's position: the generator's arrays hold enum values as these codes."""
    return {value: i for i, value in enumerate(values)}


def weights(values: tuple[str, ...], share: dict[str, float]) -> tuple[float, ...]:
    """The shares in the order of ``values`` (a value without a share is an error)."""
    return tuple(share[value] for value in values)


@dataclass(frozen=True)
class Intent:
    name: str
    category: str
    description: str
    requires_human: bool
    weight: float
    tool: str | None
    utterances: tuple[str, ...]
    replies: tuple[str, ...]


def _i(
    name: str,
    category: str,
    description: str,
    requires_human: bool,
    weight: float,
    tool: str | None,
    utterances: tuple[str, ...],
    replies: tuple[str, ...],
) -> Intent:
    return Intent(name, category, description, requires_human, weight, tool, utterances, replies)


INTENTS: tuple[Intent, ...] = (
    _i(
        "check_order_status",
        "orders",
        "Customer asks where an order is or what state it is in",
        False,
        9.0,
        "order_lookup",
        (
            "Where is my order?",
            "Can you check the status of order 48213?",
            "My order still says processing, what is going on?",
        ),
        (
            "Your order has been packed and will ship within 24 hours.",
            "I looked it up: the order left our warehouse yesterday and is in transit.",
        ),
    ),
    _i(
        "cancel_order",
        "orders",
        "Customer wants to cancel an order that has not shipped yet",
        False,
        5.0,
        "order_cancel",
        (
            "I want to cancel my order",
            "Please cancel the order I placed this morning",
            "How do I cancel an order?",
        ),
        (
            "I have cancelled the order. The refund will reach your account in 3-5 business days.",
            "Orders can be cancelled until they ship. This one is still open, so I cancelled it.",
        ),
    ),
    _i(
        "modify_order",
        "orders",
        "Customer wants to change items or quantities of an order",
        False,
        2.5,
        "order_update",
        (
            "Can I add another item to my order?",
            "I ordered the wrong size, can I change it?",
            "Change the quantity to two please",
        ),
        (
            "I updated the order. You will receive a new confirmation email shortly.",
            "Changes are possible while the order is open. I have applied the new size.",
        ),
    ),
    _i(
        "track_shipment",
        "shipping",
        "Customer asks for a tracking link or carrier information",
        False,
        6.0,
        "shipment_tracking",
        (
            "Can I get the tracking number?",
            "Which carrier is delivering my parcel?",
            "The tracking link does not work",
        ),
        (
            "Here is your tracking link; the carrier expects delivery tomorrow.",
            "Your parcel is with the carrier and is scheduled for delivery on Friday.",
        ),
    ),
    _i(
        "delivery_delay",
        "shipping",
        "Customer complains that a delivery is late",
        False,
        4.0,
        "shipment_tracking",
        (
            "My package is late",
            "It was supposed to arrive two days ago",
            "Why is my delivery delayed?",
        ),
        (
            "I'm sorry about the delay. The carrier reports a backlog; delivery is expected in 2 days.",
            "The shipment is delayed at the regional hub. I have flagged it for priority.",
        ),
    ),
    _i(
        "change_delivery_address",
        "shipping",
        "Customer wants to change the shipping address",
        False,
        2.0,
        "order_update",
        (
            "I need to change my delivery address",
            "Can you ship it to my office instead?",
            "I moved, please update the address on my order",
        ),
        (
            "I updated the delivery address on your open order.",
            "The address can only be changed before dispatch. I have updated it for you.",
        ),
    ),
    _i(
        "return_item",
        "returns",
        "Customer wants to return an item",
        False,
        5.0,
        "returns_portal",
        ("How do I return an item?", "I want to send this back", "Can I return a gift?"),
        (
            "You can start a return in the returns portal; I have created a prepaid label for you.",
            "Returns are free within 30 days. I have emailed you the return label.",
        ),
    ),
    _i(
        "refund_status",
        "returns",
        "Customer asks when a refund will arrive",
        False,
        4.0,
        "refund_lookup",
        (
            "Where is my refund?",
            "I returned the item two weeks ago and got no money back",
            "When will I get my refund?",
        ),
        (
            "Your refund was issued on Monday; banks usually need 3-5 business days.",
            "The return was received and the refund is being processed.",
        ),
    ),
    _i(
        "exchange_item",
        "returns",
        "Customer wants to exchange an item for another size or colour",
        False,
        1.5,
        None,
        (
            "Can I exchange these shoes for a bigger size?",
            "I want a different colour",
            "Exchange instead of refund please",
        ),
        (
            "Exchanges work like returns: send the item back and we ship the new one right away.",
            "I have started an exchange; the replacement ships once we scan your parcel.",
        ),
    ),
    _i(
        "reset_password",
        "account",
        "Customer cannot remember the password and wants to reset it",
        False,
        6.0,
        "password_reset",
        ("I forgot my password", "How do I reset my password?", "Password reset email never came"),
        (
            "I have sent a password reset link to the email address on file.",
            "Use the 'Forgot password' link on the sign-in page; the link is valid for 30 minutes.",
        ),
    ),
    _i(
        "login_problem",
        "account",
        "Customer cannot sign in for reasons other than the password",
        False,
        3.0,
        "auth_diagnostics",
        ("I can't log in", "The app logs me out all the time", "My account is locked"),
        (
            "Your account was locked after several failed attempts; I have unlocked it.",
            "Please update the app and clear the cache, then try to sign in again.",
        ),
    ),
    _i(
        "update_account_details",
        "account",
        "Customer wants to change name, email or phone",
        False,
        2.5,
        "account_update",
        (
            "I want to change my email address",
            "How do I update my phone number?",
            "Please change the name on my account",
        ),
        (
            "You can change your details under Settings > Profile. I have started the change.",
            "I have updated your account details; please confirm via the email we sent.",
        ),
    ),
    _i(
        "two_factor_setup",
        "account",
        "Customer asks how to enable two-factor authentication",
        False,
        1.5,
        None,
        ("How do I turn on 2FA?", "I lost my authenticator app", "Set up two-factor please"),
        (
            "Open Settings > Security and choose 'Enable two-factor authentication'.",
            "You can use your recovery codes; otherwise we can reset 2FA after verification.",
        ),
    ),
    _i(
        "delete_account",
        "account",
        "Customer wants the account closed and data removed",
        True,
        1.5,
        None,
        (
            "Delete my account",
            "I want to close my account permanently",
            "Remove all my data please",
        ),
        (
            "Account deletion needs identity verification; I will connect you with our team.",
            "I can start the account closure. A colleague will confirm the deletion.",
        ),
    ),
    _i(
        "billing_dispute",
        "billing",
        "Customer disputes a charge on an invoice",
        True,
        3.0,
        "invoice_lookup",
        (
            "I was charged twice",
            "There is a charge I don't recognise",
            "This invoice amount is wrong",
        ),
        (
            "I can see two charges. I'll pass this to our billing team to investigate.",
            "I'm sorry about the wrong charge. Billing disputes are handled by a specialist.",
        ),
    ),
    _i(
        "invoice_request",
        "billing",
        "Customer needs an invoice or receipt",
        False,
        3.0,
        "invoice_lookup",
        (
            "Can I get an invoice?",
            "I need a receipt with our VAT number",
            "Where do I download invoices?",
        ),
        (
            "Invoices are available under Billing > Invoices. I have emailed the latest one.",
            "I have regenerated the invoice with your VAT number.",
        ),
    ),
    _i(
        "update_payment_method",
        "payments",
        "Customer wants to change the card or bank account",
        False,
        2.5,
        "payment_update",
        (
            "I want to change my credit card",
            "How do I update my payment method?",
            "Use my bank account instead of my card",
        ),
        (
            "You can update the payment method under Billing > Payment methods.",
            "I have sent you a secure link to update your payment details.",
        ),
    ),
    _i(
        "payment_failed",
        "payments",
        "Customer's payment was declined",
        False,
        3.0,
        "payment_lookup",
        ("My payment failed", "Why was my card declined?", "I can't pay for my order"),
        (
            "The bank declined the payment. Please check the card limit or try another card.",
            "The payment failed 3-D Secure verification; please retry and approve it in your app.",
        ),
    ),
    _i(
        "report_fraud",
        "payments",
        "Customer reports a suspicious or fraudulent transaction",
        True,
        0.8,
        None,
        (
            "Someone used my card on your site",
            "I think my account was hacked",
            "There is an order I never placed",
        ),
        (
            "I have blocked the account for your safety and am connecting you with our fraud team.",
            "Thank you for reporting this. A specialist will review the transactions now.",
        ),
    ),
    _i(
        "upgrade_plan",
        "subscription",
        "Customer wants to move to a higher plan",
        False,
        2.5,
        "subscription_update",
        ("I want to upgrade to Pro", "What do I get with Enterprise?", "Upgrade my plan"),
        (
            "Done! Your plan is now Pro and the new features are active.",
            "The upgrade is prorated; you only pay the difference for this month.",
        ),
    ),
    _i(
        "downgrade_plan",
        "subscription",
        "Customer wants to move to a cheaper plan",
        False,
        1.5,
        "subscription_update",
        (
            "Downgrade me to the free plan",
            "The Pro plan is too expensive",
            "Can I switch to a cheaper plan?",
        ),
        (
            "Your plan will switch to Free at the end of the billing period.",
            "I scheduled the downgrade; you keep Pro features until the period ends.",
        ),
    ),
    _i(
        "cancel_subscription",
        "subscription",
        "Customer wants to end a paid subscription",
        False,
        2.5,
        "subscription_update",
        ("Cancel my subscription", "Stop charging me every month", "How do I unsubscribe?"),
        (
            "Your subscription is cancelled and will not renew.",
            "I cancelled the renewal. You can keep using the service until the period ends.",
        ),
    ),
    _i(
        "pricing_question",
        "product",
        "Customer asks about prices, discounts or plans",
        False,
        4.0,
        None,
        (
            "How much does the Pro plan cost?",
            "Do you offer student discounts?",
            "Is there a discount for annual billing?",
        ),
        (
            "Pro costs 12 per month or 120 per year; annual billing saves two months.",
            "We offer a 30% discount for students and non-profits.",
        ),
    ),
    _i(
        "product_availability",
        "product",
        "Customer asks if a product is in stock",
        False,
        3.0,
        "inventory_lookup",
        (
            "Is this jacket in stock?",
            "When will the blue version be available again?",
            "Do you ship this item to Canada?",
        ),
        (
            "The item is in stock in most sizes and ships within 2 days.",
            "It is currently sold out; we expect new stock in about two weeks.",
        ),
    ),
    _i(
        "product_recommendation",
        "product",
        "Customer asks for advice on which product to buy",
        False,
        2.0,
        None,
        (
            "Which plan is right for a team of ten?",
            "What laptop bag do you recommend?",
            "Help me choose a product",
        ),
        (
            "For a team of ten the Team plan is usually the best fit.",
            "Based on what you described, I'd recommend the standard model.",
        ),
    ),
    _i(
        "technical_issue_app",
        "technical",
        "Customer reports that the app or website misbehaves",
        False,
        4.0,
        "status_check",
        (
            "The app keeps crashing",
            "The website is very slow today",
            "I get an error when I open the dashboard",
        ),
        (
            "We had a short incident earlier; everything is working again. Please retry.",
            "Please update to the latest version, that fixes the crash you describe.",
        ),
    ),
    _i(
        "bug_report",
        "technical",
        "Customer reports a reproducible defect",
        False,
        1.5,
        None,
        (
            "I found a bug in the export",
            "The totals in the report are wrong",
            "The save button does nothing",
        ),
        (
            "Thanks for the report! I have logged it for our engineers.",
            "I could reproduce it and created a ticket; you'll be notified when it's fixed.",
        ),
    ),
    _i(
        "integration_setup",
        "technical",
        "Customer needs help connecting an integration or API",
        False,
        1.5,
        None,
        ("How do I connect Slack?", "Where do I find my API key?", "The webhook is not firing"),
        (
            "You can create an API key under Settings > Developers.",
            "Webhooks retry for 24 hours; check that your endpoint returns a 2xx status.",
        ),
    ),
    _i(
        "data_privacy_request",
        "general",
        "Customer asks for a copy of personal data (GDPR)",
        True,
        0.8,
        None,
        ("I want a copy of all my data", "GDPR request", "What data do you store about me?"),
        (
            "Data access requests are handled by our privacy team; I'll connect you.",
            "You can download a copy of your data under Settings > Privacy.",
        ),
    ),
    _i(
        "complaint",
        "general",
        "Customer is unhappy and wants to complain",
        True,
        1.5,
        None,
        (
            "This is the worst service ever",
            "I want to make a complaint",
            "I am very disappointed with your support",
        ),
        (
            "I'm really sorry to hear that. Let me get a colleague who can help.",
            "I understand your frustration and will escalate this right away.",
        ),
    ),
    _i(
        "talk_to_human",
        "escalation",
        "Customer explicitly asks for a human agent",
        True,
        4.0,
        None,
        ("I want to talk to a human", "Agent please", "Can I speak to a real person?"),
        (
            "Sure, I'm connecting you with a human agent now.",
            "Let me transfer you to one of my colleagues.",
        ),
    ),
    _i(
        "store_hours",
        "general",
        "Customer asks for opening hours or contact options",
        False,
        1.5,
        None,
        ("When are you open?", "What are your support hours?", "Is the store open on Sunday?"),
        (
            "Our support team is available Monday to Friday, 8:00 to 20:00.",
            "Stores are open 9:00 to 19:00 on weekdays and 10:00 to 16:00 on Saturdays.",
        ),
    ),
    _i(
        "greeting",
        "smalltalk",
        "Customer greets the bot without a concrete request",
        False,
        2.0,
        None,
        ("Hi", "Hello there", "Good morning"),
        ("Hello! What can I do for you today?", "Hi! How can I help?"),
    ),
    _i(
        "thanks_goodbye",
        "smalltalk",
        "Customer thanks the bot or says goodbye",
        False,
        2.0,
        None,
        ("Thanks, that's all", "Thank you!", "Great, bye"),
        ("You're welcome! Have a great day.", "Glad I could help. Goodbye!"),
    ),
    _i(
        "out_of_scope",
        "smalltalk",
        "Request unrelated to the business",
        False,
        1.0,
        None,
        ("What's the weather tomorrow?", "Tell me a joke", "Who won the game last night?"),
        (
            "I can only help with questions about your account, orders and our products.",
            "That's outside what I can help with, sorry.",
        ),
    ),
)

INTENT_INDEX: dict[str, int] = {it.name: i for i, it in enumerate(INTENTS)}

# The enums the generator emits are the export contract's (dbt_project.yml); the code
# refers to a value by name (ROLE["user"]), never by its position in the contract.
CHANNELS: tuple[str, ...] = contract("conversations").enum("channel")
CHANNEL_WEIGHTS: tuple[float, ...] = weights(
    CHANNELS,
    {
        "web": 0.38,
        "ios": 0.18,
        "android": 0.17,
        "whatsapp": 0.12,
        "slack": 0.05,
        "voice": 0.06,
        "email": 0.04,
    },
)

# locale, ISO-2 country, base UTC offset (minutes, winter), DST rule ("eu", "us" or None)
LOCALES: tuple[tuple[str, str, int, str | None], ...] = (
    ("en-US", "US", -300, "us"),
    ("en-GB", "GB", 0, "eu"),
    ("de-DE", "DE", 60, "eu"),
    ("fr-FR", "FR", 60, "eu"),
    ("es-ES", "ES", 60, "eu"),
    ("pt-BR", "BR", -180, None),
    ("nl-NL", "NL", 60, "eu"),
)
LOCALE_WEIGHTS: tuple[float, ...] = (0.34, 0.16, 0.15, 0.1, 0.09, 0.09, 0.07)

ROLES: tuple[str, ...] = contract("messages").enum("role")
ROLE = codes(ROLES)
END_REASONS: tuple[str, ...] = contract("conversations").enum("end_reason")
END_REASON = codes(END_REASONS)
SEGMENTS: tuple[str, ...] = contract("users").enum("segment")
SEGMENT = codes(SEGMENTS)
SEGMENT_WEIGHTS: tuple[float, ...] = weights(SEGMENTS, {"free": 0.7, "pro": 0.24, "enterprise": 0.06})
# a re-exported user moves to this segment
SEGMENT_CHANGE: dict[str, str] = {"free": "pro", "pro": "enterprise", "enterprise": "pro"}

MODELS: tuple[str, ...] = ("gpt-4o-mini", "gpt-4o", "claude-haiku-4-5", "claude-sonnet-4-5")
# median latency (ms), lognormal sigma, median output tokens, input tokens per turn
MODEL_LATENCY: tuple[float, ...] = (650.0, 1500.0, 800.0, 1900.0)
MODEL_OUTPUT_TOKENS: tuple[float, ...] = (90.0, 140.0, 100.0, 170.0)

BOTS: tuple[str, ...] = ("support-bot", "billing-bot", "sales-bot")
# (old version, new version) per bot; the new version rolls out mid-history
BOT_VERSIONS: tuple[tuple[str, str], ...] = (
    ("2.3.1", "2.4.0"),
    ("1.8.2", "1.9.0"),
    ("0.9.4", "1.0.0"),
)
# model probabilities per (bot, version index)
BOT_MODEL_PROBS: tuple[tuple[tuple[float, ...], tuple[float, ...]], ...] = (
    ((0.75, 0.25, 0.0, 0.0), (0.1, 0.1, 0.6, 0.2)),
    ((0.0, 0.7, 0.0, 0.3), (0.0, 0.2, 0.2, 0.6)),
    ((0.8, 0.2, 0.0, 0.0), (0.3, 0.0, 0.7, 0.0)),
)
BILLING_CATEGORIES = frozenset({"billing", "payments", "subscription"})
SALES_CATEGORIES = frozenset({"product"})

EVENT_TYPES: tuple[str, ...] = contract("events").enum("event_type")
FEEDBACK_KINDS: tuple[str, ...] = contract("feedback").enum("kind")
FEEDBACK_KIND = codes(FEEDBACK_KINDS)
TOOL_ERRORS: tuple[str, ...] = ("TIMEOUT", "UPSTREAM_5XX", "NOT_FOUND", "RATE_LIMITED")
ERROR_CODES: tuple[str, ...] = ("LLM_TIMEOUT", "CONTENT_FILTER", "CONTEXT_TOO_LONG")
FALLBACK_REASONS: tuple[str, ...] = ("low_confidence", "no_match", "unsupported_language")
HANDOFF_REASONS: tuple[str, ...] = ("user_request", "policy", "repeated_fallback", "sentiment")
SENTIMENTS: tuple[str, ...] = contract("messages").enum("sentiment.label")
SENTIMENT = codes(SENTIMENTS)
SENTIMENT_WEIGHTS: tuple[float, ...] = weights(
    SENTIMENTS, {"positive": 0.35, "neutral": 0.45, "negative": 0.2}
)
EXPERIMENT_VARIANTS: tuple[str, ...] = contract("conversations").enum("experiment_variant")
UTM_SOURCES: tuple[str, ...] = ("google", "newsletter", "direct", "facebook", "partner")
APP_VERSIONS: tuple[str, ...] = ("5.11.2", "5.12.0", "5.12.1", "6.0.0")

FALLBACK_TEXT = "Sorry, I didn't get that. Could you rephrase your question?"
HANDOFF_TEXT = "I'm connecting you with a human agent now. Please stay in the chat."
GREETINGS: tuple[str, ...] = (
    "Hi! I'm the support assistant. How can I help you today?",
    "Hello! I'm the billing assistant. Ask me about invoices, payments and plans.",
    "Hi there! I'm the sales assistant. Looking for something specific?",
)
FOLLOW_UPS: tuple[str, ...] = (
    "Ok, and how long will that take?",
    "That didn't really answer my question.",
    "Can you explain that again?",
    "What do I need to do now?",
    "Is there anything else I need?",
    "Thanks. One more thing about the same order.",
    "I already tried that.",
    "Can you send me a confirmation?",
    "ok",
    "Why is this so complicated?",
)
HUMAN_AGENT_TEXTS: tuple[str, ...] = (
    "Hi, this is Sam from the support team. I've read the conversation, let me check.",
    "Thanks for waiting. I can see the issue on our side and I'm fixing it now.",
    "I have escalated this internally; you'll get an email within 24 hours.",
    "All done. Is there anything else I can help you with?",
    "I'm sorry for the trouble. I've added a goodwill credit to your account.",
)
COMMENTS: tuple[str, ...] = (
    "The bot was quick and helpful.",
    "Took far too long to reach a human.",
    "Great support, thanks!",
    "The answer was wrong and I had to ask twice.",
    "Easy to use, but the links didn't work.",
    "Please add phone support on weekends.",
    "I never got my refund, very disappointed.",
    "Friendly agent, solved in minutes.",
)
PII_TEMPLATES: dict[str, tuple[str, ...]] = {
    "email": ("My email is {v}", "please send it to {v} thanks", "account email: {v}"),
    "phone": ("you can call me on {v}", "my number is {v}", "Call back at {v} please"),
    "card": ("my card number is {v}, why was it declined?", "charged on card {v} twice"),
    "iban": ("Please refund to my account {v}", "IBAN for the refund: {v}"),
    "ipv4": ("I get blocked from IP {v}", "my IP address is {v} if that helps"),
    "ipv6": ("the login fails from {v}", "blocked address {v}"),
}
