/// Which of the world's named entities a sampler may use.
///
/// People's names, towns and brands come in two disjoint pools: fine-tuning splits other than test
/// draw only from the training pool, the test splits only from the test pool, so a test example
/// never mentions a name, town or brand seen in training. Pre-training text uses both.
enum EntityPool: Sendable {
    /// Train and dev.
    case training
    /// Test-seen and test-unseen.
    case test
    /// Pre-training text: both pools.
    case all
}

/// The named entities one pool offers.
struct Entities: Sendable {
    let names: [String]
    let towns: [String]
    let brands: [String]

    init(_ pool: EntityPool) {
        switch pool {
        case .training: (names, towns, brands) = (World.trainingNames, World.trainingTowns, World.trainingBrands)
        case .test: (names, towns, brands) = (World.testNames, World.testTowns, World.testBrands)
        case .all:
            names = World.trainingNames + World.testNames
            towns = World.trainingTowns + World.testTowns
            brands = World.trainingBrands + World.testBrands
        }
    }
}

/// The vocabulary of the synthetic world: who lives in it, where, what they do and own.
///
/// Names, towns and brands are split into training and test pools (see ``EntityPool``); everything
/// else (jobs, goods, days, the causal chains of the plausible-alternative task) is shared
/// vocabulary, like the common words of a language.
enum World {
    static let trainingNames = [
        "Ada", "Ben", "Cora", "Dan", "Eva", "Finn", "Gail", "Hugo", "Ida", "Jack", "Kira", "Leo", "Mia",
        "Ned", "Olga", "Paul", "Rosa", "Sam", "Tess", "Umar", "Vera", "Wanda", "Yara", "Zane", "Alma",
        "Boris", "Clara", "Dora", "Emil", "Flora", "Greta", "Hans", "Iris", "Jonas", "Karl", "Lena",
        "Max", "Nina", "Otto", "Pia",
    ]
    static let testNames = ["Bea", "Cato", "Dina", "Ezra", "Faye", "Gus", "Hana", "Ivo", "Juno", "Kai", "Lior", "Milo"]

    static let trainingTowns = [
        "Brindle", "Ashford", "Corwen", "Dunmere", "Elmbrook", "Fallow", "Greywick", "Hollin", "Ivydale",
        "Juniper", "Kettleby", "Larkspur", "Millbrook", "Northam", "Oakhurst", "Pennon", "Redfern",
        "Stillwater", "Thornby", "Underhill",
    ]
    static let testTowns = ["Wrenfield", "Yarrowby", "Zelmouth", "Vantor", "Marlow", "Tamsworth", "Quillon", "Orrin"]

    static let trainingBrands = [
        "Zorvo", "Kelbin", "Trasko", "Mivra", "Pellon", "Quorra", "Dastel", "Vintor", "Lumio", "Brekka",
        "Sovio", "Fendle", "Gorvin", "Halda",
    ]
    static let testBrands = ["Ralvo", "Nexa", "Tumbra", "Oskel", "Jivro", "Caldo"]

    /// Jobs (lower case; `article(_:)` picks "a" or "an").
    static let jobs = [
        "baker", "farmer", "teacher", "nurse", "painter", "fisher", "builder", "doctor", "singer",
        "tailor", "pilot", "cook", "engineer", "artist",
    ]

    static let days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

    /// Countable things, singular; every plural is the singular plus "s".
    static let things = [
        "apple", "pear", "egg", "book", "pen", "shell", "stamp", "marble", "cup", "candle", "card", "button",
    ]

    /// Containers for the grouping word problems: (singular, plural).
    static let containers = [("box", "boxes"), ("bag", "bags"), ("pack", "packs"), ("jar", "jars")]

    /// Shops and the goods each kind may sell (plural nouns).
    static let shops: [(kind: String, goods: [String])] = [
        ("bakery", ["bread", "cakes", "pies", "buns", "rolls"]),
        ("bookshop", ["maps", "novels", "comics", "diaries", "postcards"]),
        ("flower shop", ["roses", "tulips", "lilies", "daisies", "ferns"]),
        ("grocery", ["plums", "beans", "onions", "lemons", "carrots"]),
        ("toyshop", ["kites", "dolls", "puzzles", "yo-yos", "drums"]),
    ]

    /// "a" or "an" before `word`.
    static func article(_ word: String) -> String {
        guard let first = word.lowercased().first else { return "a" }
        return "aeiou".contains(first) ? "an" : "a"
    }

    /// `count` and `singular`, pluralised unless the count is one ("1 pen", "3 pens").
    static func counted(_ count: Int, _ singular: String) -> String {
        count == 1 ? "1 \(singular)" : "\(count) \(singular)s"
    }
}
