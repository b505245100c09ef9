/* Internal to src/persona/offline.c: the copy the offline writer chooses from.
 *
 * One family of copy per RFM status. Placeholders, expanded by offline.c:
 *   {first} {last}          the persona's names
 *   {he} {He} {his} {His} {him}   pronouns of the persona
 *   {seg}                   the segment's name (internal text only, never in e-mails)
 *   {fn}                    the e-mail merge field "{{first_name}}"
 * No template states a number: every figure in a persona comes from the
 * segment (offline.c), so the grounding check holds by construction.
 */
#ifndef TRIBE_PERSONA_OFFLINE_COPY_H
#define TRIBE_PERSONA_OFFLINE_COPY_H

typedef enum {
    FAM_VIP,      /* Champions */
    FAM_LOYAL,    /* Loyal Customers */
    FAM_GROWTH,   /* Potential Loyalists, Promising */
    FAM_NEW,      /* New Customers */
    FAM_SLIPPING, /* Need Attention, About To Sleep */
    FAM_AT_RISK,  /* At Risk, Can't Lose Them */
    FAM_DORMANT,  /* Hibernating, Lost */
    FAM_GENERAL,  /* a name we do not know and figures that do not say */
    FAM_N
} offline_family;

#define N_INTRO 2
#define N_GOALS 5
#define N_FRUST 5
#define N_QUOTE 3
#define N_SUBJ 3
#define N_BODY 2
#define N_TAG 3
#define N_SCENE 2
#define N_EXTRA 3

typedef struct {
    const char *key;   /* short name used in evidence and image prompts */
    const char *intro[N_INTRO];
    const char *goals[N_GOALS];
    const char *frustrations[N_FRUST];
    const char *quotes[N_QUOTE];
    const char *subjects[N_SUBJ];
    const char *bodies[N_BODY];
    const char *taglines[N_TAG];
    /* When most of the segment has ordered once (median orders below 2):
     * wording that claims no repeat orders; NULL: bodies and taglines as
     * above, which claim none either. */
    const char *bodies_one[N_BODY];
    const char *taglines_one[N_TAG];
    const char *scenes[N_SCENE];
    const char *channels[N_EXTRA]; /* channels every segment of the family gets; NULL ends */
    int age_band;                  /* index into offline.c's bands when no age column exists */
    int value_tier;                /* 0 low, 1 mid, 2 high: occupation without an occupation column */
} family_copy;

static const family_copy COPY[FAM_N] = {
    [FAM_VIP] = {
        .key = "vip",
        .intro = {"{first} is the customer every shop hopes for: {he} spends well and expects to be treated accordingly.",
                  "{first} knows our range inside out and treats us as {his} first stop rather than one option among many."},
        .goals = {"Get first access to new collections before they sell out",
                  "Be recognised as a valued customer, not treated like everyone else",
                  "Reorder favourites quickly without hunting through the site",
                  "Discover premium products that match {his} taste",
                  "Get fast, personal service when something goes wrong"},
        .frustrations = {"Generic promotions that ignore how much {he} already buys",
                         "Favourite products going out of stock without warning",
                         "Welcome discounts for new customers that loyal ones never see",
                         "Slow replies from customer service",
                         "Re-entering the same details at every checkout"},
        .quotes = {"I shop here more than anywhere else, so I like it when that is noticed.",
                   "If something new comes in, I want to hear about it first.",
                   "Good service keeps me coming back; I don't need the hard sell."},
        .subjects = {"{fn}, your VIP early access starts today",
                     "Before anyone else: a first look for you, {fn}",
                     "A thank-you for one of our best customers"},
        .bodies = {"Hi {fn},\n\nYou are one of the customers who make what we do possible, so you get to see our new "
                   "collection before it goes on general sale.\n\nYour early-access window is open now. Browse the new "
                   "arrivals, save your favourites and check out with priority dispatch, on us.\n\n[Shop early access]"
                   "\n\nThank you for choosing us, again and again.\nThe team",
                   "Hi {fn},\n\nWe wanted to say thank you properly. As one of our most loyal customers you now have VIP "
                   "status: early access to new ranges, priority dispatch and a dedicated service line whenever you "
                   "need us.\n\nNo codes and no small print: it is already on your account.\n\n[See my VIP benefits]"
                   "\n\nWith thanks,\nThe team"},
        .taglines = {"First in line, always.", "For the customers who know us best.", "You're the reason we do this."},
        .bodies_one = {"Hi {fn},\n\nYou are one of the customers who make what we do possible, so you get to see our "
                       "new collection before it goes on general sale.\n\nYour early-access window is open now. Browse "
                       "the new arrivals, save your favourites and check out with priority dispatch, on us.\n\n"
                       "[Shop early access]\n\nThank you for choosing us.\nThe team",
                       "Hi {fn},\n\nWe wanted to say thank you properly. As one of our most valued customers you now "
                       "have VIP status: early access to new ranges, priority dispatch and a dedicated service line "
                       "whenever you need us.\n\nNo codes and no small print: it is already on your account.\n\n"
                       "[See my VIP benefits]\n\nWith thanks,\nThe team"},
        .taglines_one = {"First in line, always.", "One order, first-class treatment.", "You're the reason we do this."},
        .scenes = {"unboxing a premium parcel at a sunlit kitchen table, smiling",
                   "browsing a curated new collection on a tablet in a stylish living room"},
        .channels = {"E-mail", "Direct mail", NULL},
        .age_band = 2, .value_tier = 2},
    [FAM_LOYAL] = {
        .key = "loyal",
        .intro = {"{first} is a steady, dependable customer: {he} comes back regularly and rarely needs persuading.",
                  "{first} has settled into a routine with us and reorders without much fuss."},
        .goals = {"Earn rewards for shopping regularly",
                  "Stock up on trusted favourites with minimal effort",
                  "Hear about relevant new products without being spammed",
                  "Get good value on repeat purchases",
                  "Have orders arrive on time, every time"},
        .frustrations = {"Loyalty that goes unrewarded",
                         "Price rises on the products {he} buys most",
                         "Too many irrelevant e-mails",
                         "Delivery slots that don't fit {his} week",
                         "Website changes that hide familiar products"},
        .quotes = {"I know what I like and I keep coming back for it.",
                   "A little recognition for sticking with a brand goes a long way.",
                   "Make reordering easy and you've got me."},
        .subjects = {"{fn}, your loyalty rewards are waiting",
                     "Thanks for sticking with us, {fn}",
                     "Picked for you: new favourites to try"},
        .bodies = {"Hi {fn},\n\nThank you for coming back to us time after time. To say thanks, we've added bonus "
                   "loyalty points to your account, ready to use on your next order.\n\nWe've also picked a few new "
                   "products we think you'll love, based on what you already buy.\n\n[Use my rewards]\n\nSee you soon,"
                   "\nThe team",
                   "Hi {fn},\n\nYou've been with us a while, and we've noticed. From today you'll get member-only "
                   "prices on the products you reorder most, plus free delivery on your next order.\n\n[See my member "
                   "prices]\n\nThanks for being part of the family,\nThe team"},
        .taglines = {"Loyalty, rewarded.", "The more you shop, the more we give back.", "Your favourites, made easier."},
        .bodies_one = {"Hi {fn},\n\nThank you for shopping with us. To say thanks, we've added bonus loyalty "
                       "points to your account, ready to use on your next order.\n\nWe've also picked a few new "
                       "products we think you'll love, based on what you bought.\n\n[Use my rewards]\n\nSee you "
                       "soon,\nThe team",
                       "Hi {fn},\n\nWe'd love to see you again. From today you'll get member-only prices on our best "
                       "sellers, plus free delivery on your next order.\n\n[See my member prices]\n\nThanks for "
                       "choosing us,\nThe team"},
        .taglines_one = {"Your next favourite is waiting.", "Shop again, get more back.", "One order in. Plenty more to love."},
        .scenes = {"restocking favourite products at home on a relaxed weekend morning",
                   "checking a loyalty app on a phone in a neighbourhood cafe"},
        .channels = {"E-mail", "Loyalty programme", NULL},
        .age_band = 3, .value_tier = 1},
    [FAM_GROWTH] = {
        .key = "growth",
        .intro = {"{first} has had a good start with us and is still deciding whether we deserve a regular place in "
                  "{his} routine.",
                  "{first} likes what {he} has bought so far and could easily become a regular with the right nudge."},
        .goals = {"Find products that fit {his} needs without endless browsing",
                  "Get value for money while trying new things",
                  "Feel confident about quality before buying again",
                  "Get helpful recommendations based on past orders",
                  "Enjoy a smooth, quick checkout"},
        .frustrations = {"Too much choice and too little guidance",
                         "Delivery costs that only appear at checkout",
                         "Recommendations that have nothing to do with past purchases",
                         "Uncertainty about returns",
                         "Offers that expire before {he} has time to look"},
        .quotes = {"I've liked what I've bought so far; show me what else you've got.",
                   "I'll come back if you make it worth my while.",
                   "Recommendations help, as long as they are actually relevant."},
        .subjects = {"{fn}, we picked these with you in mind",
                     "Your next favourite is waiting",
                     "A little something for your next order"},
        .bodies = {"Hi {fn},\n\nThanks for your recent orders. Based on what you've bought, we've put together a short "
                   "edit of products we think you'll like just as much.\n\nAnd because we'd love to see you again "
                   "soon, your next order ships free.\n\n[See my picks]\n\nHappy shopping,\nThe team",
                   "Hi {fn},\n\nYou've made a great start with us, so we'd like to make your next order even better: "
                   "join our rewards club today and you'll earn points from your very next purchase.\n\n[Join for "
                   "free]\n\nSee you soon,\nThe team"},
        .taglines = {"Made for what you love next.", "Good start. Even better next time.",
                     "Picked for you, not for everyone."},
        .bodies_one = {"Hi {fn},\n\nThanks for your first order. Based on what you bought, we've put together a "
                       "short edit of products we think you'll like just as much.\n\nAnd because we'd love to see you "
                       "again soon, your second order ships free.\n\n[See my picks]\n\nHappy shopping,\nThe team",
                       "Hi {fn},\n\nYou've made a great start with us, so we'd like to make your next order even "
                       "better: join our rewards club today and you'll earn points from your very next purchase.\n\n"
                       "[Join for free]\n\nSee you soon,\nThe team"},
        .scenes = {"browsing personalised product recommendations on a laptop at home",
                   "trying out a new purchase in a bright modern apartment"},
        .channels = {"E-mail", "Paid social", NULL},
        .age_band = 1, .value_tier = 1},
    [FAM_NEW] = {
        .key = "new",
        .intro = {"{first} discovered us only recently and is still getting to know what we offer.",
                  "{first} is brand new to us: curious, open to suggestions and still forming a first impression."},
        .goals = {"Understand what makes us different",
                  "Get a good deal on the first few orders",
                  "Find {his} way around the range quickly",
                  "Be sure that delivery and returns are hassle-free",
                  "Get recommendations that feel personal from day one"},
        .frustrations = {"Being bombarded with e-mails straight after signing up",
                         "A complicated account setup",
                         "Not knowing which products are the best sellers",
                         "Hidden costs revealed at checkout",
                         "Slow replies to first-time questions"},
        .quotes = {"I'm new here, so show me what you're best at.",
                   "First impressions matter: make it easy and I'll be back.",
                   "I just want to know I'm buying the right thing."},
        .subjects = {"Welcome, {fn}! Here's how to get the most from us",
                     "{fn}, your welcome gift is inside",
                     "Great to have you with us, {fn}"},
        .bodies = {"Hi {fn},\n\nWelcome, and thank you for your first order! Over the next few weeks we'll share our "
                   "best sellers, a few insider tips and the stories behind our products, so you can find your "
                   "favourites fast.\n\nTo start you off, there's a welcome gift waiting on your account for your "
                   "next order.\n\n[Claim my welcome gift]\n\nGlad you're here,\nThe team",
                   "Hi {fn},\n\nWelcome aboard! It's great to have you with us. New customers often ask where to start, so we've put "
                   "our most-loved products in one place, with free returns so you can shop with confidence.\n\n"
                   "[Explore best sellers]\n\nAny questions? Just reply to this e-mail.\nThe team"},
        .taglines = {"Welcome in. Make yourself at home.", "A great first order deserves a second.",
                     "New here? You'll fit right in."},
        .scenes = {"opening a first delivery with curiosity at the front door",
                   "exploring a welcoming online shop on a smartphone on the sofa"},
        .channels = {"Welcome e-mail series", "Paid social", NULL},
        .age_band = 1, .value_tier = 0},
    [FAM_SLIPPING] = {
        .key = "slipping",
        .intro = {"{first} used to shop with us regularly, but {his} visits have become less frequent lately.",
                  "{first} still likes us, but we are slipping down {his} list and competitors are getting {his} "
                  "attention."},
        .goals = {"Get reasons to come back that feel relevant",
                  "Find what {he} needs faster",
                  "Save money on everyday purchases",
                  "Hear about genuinely new products",
                  "Keep shopping simple during a busy period"},
        .frustrations = {"Messages that feel repetitive",
                         "Seeing nothing new since {his} last visit",
                         "Competitors offering better deals",
                         "Forgotten passwords and abandoned baskets",
                         "Delivery charges on small orders"},
        .quotes = {"I haven't forgotten you, I've just been busy.",
                   "Give me a good reason and I'll come back.",
                   "I'd shop more if something new caught my eye."},
        .subjects = {"{fn}, see what's new since your last visit",
                     "We've saved something for you",
                     "Still thinking about it, {fn}?"},
        .bodies = {"Hi {fn},\n\nIt's been a little while, and a lot has changed: new arrivals, restocked favourites "
                   "and faster delivery.\n\nTo welcome you back, we've added a limited-time offer to your account, "
                   "yours on your next order this month.\n\n[See what's new]\n\nHope to see you soon,\nThe team",
                   "Hi {fn},\n\nWe noticed you haven't been back for a bit, so here's a quick catch-up: the products "
                   "customers like you are loving right now, plus free delivery on your next order.\n\n[Catch up "
                   "now]\n\nThe team"},
        .taglines = {"There's more to discover.", "Come back to something new.", "We've been saving you a seat."},
        .scenes = {"glancing at a favourite shop's message on a phone during a busy commute",
                   "pausing over a fresh product display in a cosy home office"},
        .channels = {"E-mail", "Retargeting ads", NULL},
        .age_band = 2, .value_tier = 1},
    [FAM_AT_RISK] = {
        .key = "at_risk",
        .intro = {"{first} was once a valuable regular, but has not ordered for a while and may already be shopping "
                  "elsewhere.",
                  "{first} spent well with us in the past; lately {he} has gone quiet, and we risk losing {him} for "
                  "good."},
        .goals = {"Feel valued again after a long gap",
                  "Get a compelling reason to return",
                  "Find the products {he} used to buy quickly",
                  "Trust that service has improved",
                  "Get a better deal than the competition offers"},
        .frustrations = {"Feeling forgotten after being a loyal customer",
                         "A past order or service problem that was never put right",
                         "Finding {his} favourite products discontinued",
                         "Prices that have crept up",
                         "Generic mass e-mails"},
        .quotes = {"I used to order all the time. Give me a reason to come back.",
                   "It's not that I left; someone else just made it easier.",
                   "Show me you still value my business."},
        .subjects = {"{fn}, we miss you, and we've got something to prove it",
                     "A special offer to welcome you back",
                     "It's been too long, {fn}"},
        .bodies = {"Hi {fn},\n\nWe've missed you. You were one of our regulars, and we'd love the chance to earn your "
                   "business back.\n\nSo here's an exclusive reactivation offer, reserved for you and valid on "
                   "anything in store for the next few weeks. Your old favourites are still here, and there's plenty "
                   "that's new.\n\n[Redeem my offer]\n\nIf anything went wrong last time, just reply and tell us. "
                   "We'll put it right.\nThe team",
                   "Hi {fn},\n\nIt's been a while since your last order, and we wanted to reach out personally. "
                   "We've made delivery faster, added new ranges and kept the products you used to love.\n\nTo "
                   "welcome you back, your next order comes with a thank-you discount and free express delivery."
                   "\n\n[Come back and save]\n\nWarm regards,\nThe team"},
        .taglines = {"We'd love you back.", "Your favourites never left.", "Welcome back. We saved your place."},
        .bodies_one = {"Hi {fn},\n\nWe've missed you. You made a great first order with us, and we'd love the chance "
                       "to earn your business again.\n\nSo here's an exclusive reactivation offer, reserved for you "
                       "and valid on anything in store for the next few weeks. There's plenty that's new.\n\n[Redeem "
                       "my offer]\n\nIf anything went wrong last time, just reply and tell us. We'll put it right.\n"
                       "The team",
                       "Hi {fn},\n\nIt's been a while since your order, and we wanted to reach out personally. We've "
                       "made delivery faster and added new ranges.\n\nTo welcome you back, your next order comes "
                       "with a thank-you discount and free express delivery.\n\n[Come back and save]\n\nWarm "
                       "regards,\nThe team"},
        .taglines_one = {"We'd love you back.", "Come back to something new.", "Welcome back. We saved your place."},
        .scenes = {"finding a favourite brand's parcel on the doorstep, pleasantly surprised",
                   "reading a personal note from a brand at a kitchen table with a coffee"},
        .channels = {"E-mail", "SMS", "Retargeting ads"},
        .age_band = 3, .value_tier = 1},
    [FAM_DORMANT] = {
        .key = "dormant",
        .intro = {"{first} bought from us a long time ago and has not been back since; we are barely on {his} radar.",
                  "{first} made a purchase or two, then drifted away. Winning {him} back will take a strong offer."},
        .goals = {"See a clear reason to give us another try",
                  "Get a great price with no commitment",
                  "Discover what has changed since {his} last order",
                  "Shop without having to set up an account again",
                  "Receive fewer but better messages"},
        .frustrations = {"Too many e-mails from brands {he} no longer uses",
                         "A forgettable first experience",
                         "Not remembering why {he} bought in the first place",
                         "Better offers elsewhere",
                         "Awkward unsubscribe and account settings"},
        .quotes = {"Honestly, I'd forgotten about you.",
                   "A really good offer might tempt me back.",
                   "If it's easy and worth it, I'll take another look."},
        .subjects = {"{fn}, a win-back offer just for you",
                     "Long time no see: here's a reason to return",
                     "We'd love another chance, {fn}"},
        .bodies = {"Hi {fn},\n\nIt's been a long time, and a lot has changed since you last shopped with us: new "
                   "ranges, better prices and quicker delivery.\n\nWe'd love another chance, so here's our best "
                   "win-back offer, valid for a limited time on your next order.\n\n[Claim my offer]\n\nNot for you "
                   "any more? You can update your preferences at any time.\nThe team",
                   "Hi {fn},\n\nRemember us? We've been busy improving things, and we think you'll like what we've "
                   "done. Come and take a look, and enjoy a welcome-back discount on us.\n\n[Take another look]\n\n"
                   "The team"},
        .taglines = {"Long time no see.", "Give us another try.", "A lot has changed, for the better."},
        .scenes = {"rediscovering an old favourite shop on a laptop on a rainy afternoon",
                   "finding a surprise offer in the post in a tidy hallway"},
        .channels = {"E-mail", "Direct mail", NULL},
        .age_band = 4, .value_tier = 0},
    [FAM_GENERAL] = {
        .key = "general",
        .intro = {"{first} is a typical customer of the {seg} segment, with a shopping pattern of {his} own.",
                  "{first} shops with us in {his} own way, and we are still learning what matters most to {him}."},
        .goals = {"Find the right products quickly",
                  "Get fair prices and clear delivery costs",
                  "Receive offers that match {his} interests",
                  "Shop on whichever device is to hand",
                  "Get help quickly when {he} needs it"},
        .frustrations = {"Irrelevant promotions", "Slow or unclear delivery information", "A cluttered website",
                         "Items out of stock", "Complicated returns"},
        .quotes = {"Keep it simple and relevant and I'll keep shopping.",
                   "I want offers that actually fit what I buy.",
                   "Good products, fair prices, no fuss."},
        .subjects = {"{fn}, something picked for you", "New this week, chosen for you",
                     "A little something for your next order"},
        .bodies = {"Hi {fn},\n\nWe've picked out a few products we think you'll like, based on what customers like "
                   "you are buying right now.\n\n[Take a look]\n\nThe team",
                   "Hi {fn},\n\nThanks for being a customer. Here's what's new this week, plus a small thank-you on "
                   "your next order.\n\n[Shop now]\n\nThe team"},
        .taglines = {"Made for the way you shop.", "Simply good shopping.", "Picked for you."},
        .scenes = {"shopping online on a laptop at a bright kitchen table",
                   "browsing a shop's app on a phone on the sofa"},
        .channels = {"E-mail", "Web", NULL},
        .age_band = 2, .value_tier = 1},
};

static const char *const FIRST_F[] = {
    "Amelia", "Olivia", "Isla",   "Sophie", "Emily",     "Grace",  "Chloe",  "Hannah",  "Lucy",
    "Charlotte", "Priya", "Aisha", "Maria", "Elena",    "Claire", "Rachel", "Sarah",   "Laura",
    "Fiona",  "Megan",  "Zoe",    "Ella",   "Jessica",   "Rebecca", "Niamh", "Freya",   "Leah",
    "Anna",   "Julia",  "Katie",  "Helen",  "Joanna",    "Nadia",  "Yasmin", "Mei",     "Sofia",
    "Ingrid", "Camille", "Lena",  "Rosa",   "Bethany"};
static const char *const FIRST_M[] = {
    "Oliver", "James",  "Harry",  "Thomas", "William",  "Jack",   "George", "Daniel",  "Samuel",
    "Joseph", "Arjun",  "Omar",   "Marco",  "Lukas",    "David",  "Michael", "Andrew", "Ben",
    "Chris",  "Matthew", "Ryan",  "Liam",   "Noah",     "Ethan",  "Adam",   "Owen",    "Callum",
    "Rhys",   "Sean",   "Patrick", "Mohammed", "Raj",   "Kenji",  "Mateo",  "Pierre",  "Jonas",
    "Erik",   "Luca",   "Felix",  "Hugo",   "Nathan"};
static const char *const LAST[] = {
    "Smith",   "Jones",   "Taylor",  "Brown",   "Williams", "Wilson",  "Johnson", "Davies",  "Patel",
    "Robinson", "Wright", "Thompson", "Evans",  "Walker",   "White",   "Roberts", "Green",   "Hall",
    "Wood",    "Jackson", "Clarke",  "Khan",    "Hughes",   "Edwards", "Turner",  "Hill",    "Moore",
    "Cooper",  "Ward",    "Morris",  "King",    "Watson",   "Harrison", "Morgan", "Baker",   "Young",
    "Allen",   "Mitchell", "Anderson", "Lewis", "Bennett",  "Carter",  "Murphy",  "Kelly",   "Price",
    "Shaw",    "Chen",    "Singh",   "Nowak",   "Rossi",    "Schmidt", "Dubois",  "Garcia",  "Fernandes",
    "Okafor",  "Ali",     "Larsen",  "Fraser",  "Reid"};

/* Occupations when the data has no occupation column, by value tier. */
static const char *const OCC_TIER[3][6] = {
    {"University student", "Retail assistant", "Freelance writer", "Junior administrator", "Barista",
     "Apprentice electrician"},
    {"Primary school teacher", "Nurse", "Project coordinator", "Graphic designer", "Accountant",
     "Marketing executive"},
    {"Operations director", "Small-business owner", "Management consultant", "Senior software engineer",
     "Architect", "Finance manager"}};
static const char *const OCC_RETIRED[] = {"Retired teacher", "Retired engineer", "Retired nurse"};

/* Tones a refine may ask for (tribe_persona_inputs.tone): the words that
 * name one (matched at the start of a word, case ignored) and the sign-off
 * the e-mail then ends with. A tone named by none of them still changes
 * the e-mail and tagline variants. */
typedef struct {
    const char *words[4];
    const char *sign_off;
} tone_def;

static const tone_def TONES[] = {
    {{"formal", "professional", "serious", NULL}, "Kind regards,\nThe customer team"},
    {{"friendly", "warm", "casual", "relaxed"}, "Speak soon,\nThe team"},
    {{"playful", "fun", "cheeky", "witty"}, "Go on, treat yourself. You've earned it!"},
    {{"urgent", "direct", "bold", NULL}, "Don't wait too long: offers like this never stay around for ever."},
    {{"premium", "luxur", "exclusive", "elegant"}, "With our compliments,\nThe team"},
    {{"caring", "reassur", "empath", "gentle"}, "We're here whenever you need us. Take care."},
};
#define N_TONES (int)(sizeof TONES / sizeof *TONES)

#endif
