"""User text the way people type it: paraphrases with slots, short and long forms, noise.

Each intent has several paraphrase templates (``PARAPHRASES`` plus the catalogue's own
utterances) whose slots (``{order}``, ``{product}``, ``{date}``, ``{place}``, ``{plan}``,
``{amount}``, ...) are filled from small value lists; some messages get an opener or a
closer (long form), a few a second request (multi-intent: the label stays the first
intent), and then noise: lower or upper case, missing or doubled punctuation, doubled
spaces and letter typos (swap, drop, double, neighbour key). Slot values never look like
PII (order numbers have 5 digits, dates are written out), so redaction leaves them alone.

Deterministic for a seed: ``Phraser`` draws from its own ``random.Random`` seeded from the
run's seed and day, so the rest of the simulation (counts, outcomes) draws exactly what it
drew before these texts existed.
"""

from __future__ import annotations

import random

import chatbatch_dev.generator.catalog as C

# fmt: off
SLOT_VALUES: dict[str, tuple[str, ...]] = {
    "product": (
        "jacket", "laptop bag", "running shoes", "headphones", "coffee maker", "backpack", "desk lamp",
        "phone case", "winter coat", "sneakers", "kettle", "monitor stand", "yoga mat", "water bottle",
        "keyboard", "smart watch", "blender", "rain jacket",
    ),
    "date": (
        "yesterday", "last Monday", "last week", "on Friday", "two days ago", "Nov 3", "3 November",
        "October 28", "this morning", "on the 12th", "last month", "Tuesday",
    ),
    "place": (
        "Berlin", "London", "Paris", "Madrid", "Amsterdam", "Chicago", "Austin", "Lyon", "Rotterdam",
        "Munich", "Seattle", "Porto", "my office", "my parents' place", "Canada",
    ),
    "plan": ("Pro", "Enterprise", "the free plan", "the team plan", "Basic", "the annual plan"),
    "amount": ("$49", "$12.99", "€30", "£18", "$240", "€9.99", "$75", "€120"),
    "size": ("a bigger size", "a smaller size", "size M", "size 42", "an XL", "size 9"),
    "colour": ("blue", "black", "red", "green", "grey", "white"),
    "app": ("the iPhone app", "the Android app", "the website", "the dashboard", "the desktop app"),
    "tool": ("Slack", "Zapier", "Salesforce", "HubSpot", "Shopify", "Google Sheets", "Teams"),
    "n": ("two", "three", "5", "10", "a few", "several"),
}

PARAPHRASES: dict[str, tuple[str, ...]] = {
    "check_order_status": (
        "where is order {order}", "status of my order {order}?", "has my {product} shipped yet?",
        "I ordered a {product} {date}, where is it?", "order {order} still says processing",
        "any news on order {order}", "what's the status of my {product} order",
    ),
    "cancel_order": (
        "cancel order {order}", "please cancel my {product} order", "I ordered {date} and want to cancel",
        "can you cancel order {order} before it ships?", "I changed my mind about the {product}, cancel it",
        "stop order {order} please",
    ),
    "modify_order": (
        "can I add a {product} to order {order}?", "change the quantity on order {order} to {n}",
        "I need {size} instead on order {order}", "can I change my order from {date}?",
        "swap the {product} in my order for the {colour} one",
    ),
    "track_shipment": (
        "tracking number for order {order}?", "who is delivering my {product}?",
        "the tracking link for {order} is broken", "where is my parcel right now",
        "can you send me the tracking info for my {product}",
    ),
    "delivery_delay": (
        "my {product} was supposed to arrive {date}", "order {order} is late",
        "why is my delivery to {place} delayed?", "still waiting for my parcel since {date}",
        "the delivery date for {order} keeps moving",
    ),
    "change_delivery_address": (
        "please ship order {order} to {place} instead", "I need to change the address on order {order}",
        "can you deliver to {place}?", "wrong address on my order from {date}",
        "update the shipping address for my {product}",
    ),
    "return_item": (
        "how do I return the {product}?", "I want to return order {order}",
        "the {product} doesn't fit, can I send it back?", "return label for order {order} please",
        "can I return something I bought {date}?",
    ),
    "refund_status": (
        "where is my refund for order {order}?", "I sent back the {product} {date}, no refund yet",
        "refund of {amount} still missing", "when do I get my {amount} back?",
        "status of refund for {order}",
    ),
    "exchange_item": (
        "can I exchange the {product} for {size}?", "I want the {product} in {colour}",
        "exchange order {order} please", "swap my {product} for {size}",
        "can I get a different colour, {colour} maybe?",
    ),
    "reset_password": (
        "reset my password", "password reset link doesn't arrive", "I can't remember my password",
        "forgot password again", "how can I change my password on {app}?",
    ),
    "login_problem": (
        "I can't sign in to {app}", "login fails since {date}", "my account got locked {date}",
        "{app} keeps logging me out", "it says wrong password but it's right",
    ),
    "update_account_details": (
        "change my email address please", "I need to update my phone number", "how do I change my name?",
        "update my account details", "I moved to {place}, update my profile",
    ),
    "two_factor_setup": (
        "how to enable two factor", "set up 2FA on {app}", "I got a new phone and lost my 2FA codes",
        "turn on two-step verification", "my authenticator codes don't work",
    ),
    "delete_account": (
        "please delete my account", "close my account for good", "I want my account removed",
        "how do I delete my profile?", "delete everything you have on me",
    ),
    "billing_dispute": (
        "I was charged {amount} twice", "there's a charge of {amount} I don't know",
        "my invoice from {date} is wrong", "why did you charge me {amount}?",
        "double charge on my card {date}",
    ),
    "invoice_request": (
        "I need an invoice for order {order}", "send me the receipt for {amount}",
        "invoice with our VAT number please", "where can I download my invoices?",
        "can I get a copy of the invoice from {date}?",
    ),
    "update_payment_method": (
        "change my payment card", "add a new credit card", "switch to paying by bank transfer",
        "update my billing details", "my card expired, how do I add a new one?",
    ),
    "payment_failed": (
        "payment of {amount} failed", "my card was declined {date}", "checkout fails when I pay",
        "why won't my payment go through?", "payment error on order {order}",
    ),
    "report_fraud": (
        "someone ordered with my card", "there's an order {order} I never placed",
        "I think someone hacked my account {date}", "fraudulent charge of {amount}",
        "unknown login from {place} on my account",
    ),
    "upgrade_plan": (
        "upgrade me to {plan}", "I want to move to {plan}", "how do I upgrade my plan?",
        "what do I get with {plan}?", "switch our team to {plan}",
    ),
    "downgrade_plan": (
        "downgrade to {plan}", "{plan} is too expensive for us", "move me to a cheaper plan",
        "can I go back to {plan}?", "downgrade my subscription please",
    ),
    "cancel_subscription": (
        "cancel my subscription", "stop my monthly payments", "I want to end my {plan} subscription",
        "unsubscribe me please", "don't renew my plan",
    ),
    "pricing_question": (
        "how much is {plan}?", "what does {plan} cost per month?", "price for {n} users?",
        "any discount for students?", "is annual billing cheaper?",
    ),
    "product_availability": (
        "is the {product} in stock?", "when is the {colour} {product} back?",
        "do you have the {product} in {size}?", "can you ship the {product} to {place}?",
        "is the {product} available in {colour}?",
    ),
    "product_recommendation": (
        "which {product} should I buy?", "what do you recommend for a team of {n}?",
        "looking for a good {product}", "help me pick a {product}", "which plan fits {n} people?",
    ),
    "technical_issue_app": (
        "{app} keeps crashing", "{app} is super slow today", "error when I open {app}",
        "{app} shows a blank page", "{app} freezes since {date}",
    ),
    "bug_report": (
        "found a bug in the export", "the report totals are wrong since {date}",
        "save button does nothing on {app}", "the csv export is missing rows", "bug: filters reset on {app}",
    ),
    "integration_setup": (
        "how do I connect {tool}?", "set up the {tool} integration", "where is my API key?",
        "webhook to {tool} isn't firing", "{tool} sync stopped {date}",
    ),
    "data_privacy_request": (
        "send me a copy of my data", "GDPR data request", "what personal data do you keep?",
        "I want to export all my data", "data access request under GDPR",
    ),
    "complaint": (
        "worst service ever", "I want to file a complaint", "really disappointed with your support",
        "this is unacceptable", "I've waited since {date} and nobody helps",
    ),
    "talk_to_human": (
        "talk to a human", "real person please", "can I speak to an agent?", "get me a human",
        "I want to speak to someone",
    ),
    "store_hours": (
        "when are you open?", "opening hours in {place}?", "is the store in {place} open on Sunday?",
        "what time does support close?", "are you open {date}?",
    ),
    "greeting": ("hi", "hello", "hey", "good morning", "hi there", "good evening"),
    "thanks_goodbye": ("thanks, bye", "thank you so much", "ok thanks", "that's all, thanks", "cheers, bye"),
    "out_of_scope": (
        "what's the weather in {place}?", "tell me a joke", "who won the game {date}?",
        "what's the capital of France", "can you write me a poem",
    ),
}

OPENERS: tuple[str, ...] = (
    "hi",
    "hello",
    "hey",
    "hi there,",
    "good morning,",
    "excuse me,",
    "quick question:",
    "hello team,",
    "um",
)
CLOSERS: tuple[str, ...] = (
    "thanks",
    "thank you",
    "please",
    "pls help",
    "thx",
    "asap please",
    "any help appreciated",
    "cheers",
)
CONTEXT: tuple[str, ...] = (
    "I already checked the help page.",
    "This is the second time I'm asking.",
    "I'm in a hurry.",
    "I've been a customer for years.",
    "Nobody answered my email.",
    "It's for a gift.",
)
# fmt: on
KEYS = "qwertyuiop asdfghjkl zxcvbnm"
NEIGHBOURS: dict[str, str] = {
    c: "".join(row[j] for j in (i - 1, i + 1) if 0 <= j < len(row))
    for row in KEYS.split()
    for i, c in enumerate(row)
}
INTENT_TEMPLATES: tuple[tuple[str, ...], ...] = tuple(
    (*it.utterances, *PARAPHRASES[it.name]) for it in C.INTENTS
)
MULTI_INTENT_RATE = 0.03


class Phraser:
    """Varied user texts for one simulated day (own random stream, see the module doc)."""

    def __init__(self, seed: int, day: int) -> None:
        self.r = random.Random(f"phrasing-{seed}-{day}")

    def _fill(self, template: str) -> str:
        r = self.r
        if "{" not in template:
            return template
        values = {k: v[int(r.random() * len(v))] for k, v in SLOT_VALUES.items() if "{" + k in template}
        if "{order}" in template:
            values["order"] = ("#" if r.random() < 0.4 else "") + str(10000 + int(r.random() * 90000))
        return template.format(**values)

    def utterance(self, intent: int) -> str:
        """A user message stating ``intent`` (one of C.INTENTS, by index)."""
        r = self.r
        templates = INTENT_TEMPLATES[intent]
        text = self._fill(templates[int(r.random() * len(templates))])
        u = r.random()
        if u < 0.15:
            text = f"{OPENERS[int(r.random() * len(OPENERS))]} {text}"
        elif u < 0.22:
            text = f"{text}. {CONTEXT[int(r.random() * len(CONTEXT))]}"
        if r.random() < 0.12:
            text = f"{text} {CLOSERS[int(r.random() * len(CLOSERS))]}"
        if r.random() < MULTI_INTENT_RATE:
            other = INTENT_TEMPLATES[int(r.random() * len(INTENT_TEMPLATES))]
            text = f"{text}. Also {self._fill(other[int(r.random() * len(other))])}"
        return self.noise(text)

    def noise(self, text: str) -> str:
        """Casing, punctuation, spacing and letter typos, as people type."""
        r = self.r
        u = r.random()
        if u < 0.3:
            text = text.lower()
        elif u < 0.33:
            text = text.upper()
        elif u < 0.5:
            text = text[:1].upper() + text[1:]
        u = r.random()
        if u < 0.25:
            text = text.rstrip("?.!")
        elif u < 0.33:
            text = text.rstrip("?.!") + ("??", "!!", "...", " ?")[int(r.random() * 4)]
        if r.random() < 0.05:
            text = text.replace(" ", "  ", 1)
        if r.random() < 0.18:
            for _ in range(1 + int(r.random() < 0.3)):
                text = self._typo(text)
        return text

    def _typo(self, text: str) -> str:
        r = self.r
        i = int(r.random() * len(text))
        if i + 1 >= len(text) or not (text[i].isalpha() and text[i + 1].isalpha()):
            return text
        kind = int(r.random() * 4)
        if kind == 0:
            return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        if kind == 1:
            return text[:i] + text[i + 1 :]
        if kind == 2:
            return text[:i] + text[i] + text[i:]
        near = NEIGHBOURS.get(text[i].lower(), "")
        return text[:i] + near[int(r.random() * len(near))] + text[i + 1 :] if near else text
