//! The index's fields and the text analyzers behind them.
//!
//! One document per (product, channel): the channel decides the price a
//! listing filters and sorts by, so each channel gets its own row. Texts
//! are indexed per language with that language's analyzer; a product with
//! no text in a language is found through the store's default language at
//! query time, so nothing is indexed twice.

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language as StemLanguage, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
    Token, TokenFilter, TokenStream, Tokenizer, TokenizerManager,
};
use tantivy_jieba::JiebaTokenizer;

use crate::domain::locale::Language;

/// Bumped whenever fields or analyzers change: an index built with another
/// version is rebuilt at start-up.
pub const SCHEMA_VERSION: u32 = 4;

#[derive(Clone, Copy)]
pub struct Fields {
    pub store: Field,
    pub product: Field,
    pub channel: Field,
    pub status: Field,
    pub kind: Field,
    /// When the product becomes visible to customers (i64::MAX: never).
    pub visible_from: Field,
    /// When it stops being visible (i64::MAX: never).
    pub visible_until: Field,
    pub created: Field,
    pub sales: Field,
    /// Lowest current single-unit price in the channel; absent when the
    /// product has no price there.
    pub price: Field,
    /// The product's categories and all their ancestors.
    pub category: Field,
    /// `code=value` pairs of filterable attributes and variant options.
    pub facet: Field,
    pub sku: Field,
    name: [Field; 5],
    text: [Field; 5],
    slug: [Field; 5],
}

impl Fields {
    pub fn name(&self, lang: Language) -> Field {
        self.name[lang_index(lang)]
    }
    pub fn text(&self, lang: Language) -> Field {
        self.text[lang_index(lang)]
    }
    pub fn slug(&self, lang: Language) -> Field {
        self.slug[lang_index(lang)]
    }
}

fn lang_index(lang: Language) -> usize {
    Language::ALL.iter().position(|l| *l == lang).unwrap_or(0)
}

pub fn analyzer_name(lang: Language) -> String {
    format!("oxcart_{}", lang.code())
}

pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text_options = |lang: Language, stored: bool| {
        let o = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(&analyzer_name(lang))
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        if stored { o.set_stored() } else { o }
    };
    let mut name = Vec::new();
    let mut text = Vec::new();
    let mut slug = Vec::new();
    for lang in Language::ALL {
        name.push(b.add_text_field(&format!("name_{}", lang.code()), text_options(lang, true)));
        text.push(b.add_text_field(&format!("text_{}", lang.code()), text_options(lang, false)));
        slug.push(b.add_text_field(&format!("slug_{}", lang.code()), STORED));
    }
    let fields = Fields {
        store: b.add_text_field("store", STRING),
        product: b.add_text_field("product", STRING | STORED),
        channel: b.add_text_field("channel", STRING),
        status: b.add_text_field("status", STRING),
        kind: b.add_text_field("kind", STRING | FAST),
        visible_from: b.add_i64_field("visible_from", INDEXED | FAST),
        visible_until: b.add_i64_field("visible_until", INDEXED | FAST),
        created: b.add_i64_field("created", FAST),
        sales: b.add_i64_field("sales", FAST),
        price: b.add_i64_field("price", INDEXED | FAST | STORED),
        category: b.add_text_field("category", STRING | FAST),
        facet: b.add_text_field("facet", STRING | FAST),
        sku: b.add_text_field("sku", STRING),
        name: name.try_into().expect("five languages"),
        text: text.try_into().expect("five languages"),
        slug: slug.try_into().expect("five languages"),
    };
    (b.build(), fields)
}

fn stemmer_of(lang: Language) -> Option<StemLanguage> {
    match lang {
        Language::En => Some(StemLanguage::English),
        Language::De => Some(StemLanguage::German),
        Language::Es => Some(StemLanguage::Spanish),
        Language::Pt => Some(StemLanguage::Portuguese),
        Language::Zh => None,
    }
}

fn zh_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(ZhTokenizer::default()).filter(RemoveLongFilter::limit(40)).filter(LowerCaser).build()
}

/// How queries are analyzed: Latin-script words split on
/// non-alphanumerics, lower-cased, stemmed with the language's Snowball
/// stemmer, then accents folded so "Trailläufer" and "traillaufer" meet.
/// Chinese: see [`ZhTokenizer`].
fn query_analyzer(lang: Language) -> TextAnalyzer {
    let Some(stem) = stemmer_of(lang) else { return zh_analyzer() };
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(Stemmer::new(stem))
        .filter(AsciiFoldingFilter)
        .build()
}

/// How documents are analyzed: as queries, and German compounds are also
/// indexed by their tails, so "Schuhe" finds "Wanderschuhe" (German puts
/// the head noun last).
pub fn analyzer(lang: Language) -> TextAnalyzer {
    match (lang, stemmer_of(lang)) {
        (Language::De, Some(stem)) => {
            let inner = TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(RemoveLongFilter::limit(40))
                .filter(LowerCaser)
                .filter(Stemmer::new(stem))
                .build();
            TextAnalyzer::builder(CompoundTails { inner, tokens: Vec::new() }).filter(AsciiFoldingFilter).build()
        }
        _ => query_analyzer(lang),
    }
}

/// Shortest compound tail indexed, in characters.
const MIN_TAIL: usize = 4;

/// Emits each word and, for words of 7 letters or more, every tail of at
/// least [`MIN_TAIL`] letters that leaves at least three in front.
#[derive(Clone)]
struct CompoundTails {
    inner: TextAnalyzer,
    tokens: Vec<Token>,
}

impl Tokenizer for CompoundTails {
    type TokenStream<'a> = VecStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecStream<'a> {
        self.tokens.clear();
        let mut stream = self.inner.token_stream(text);
        while stream.advance() {
            let t = stream.token().clone();
            let chars: Vec<char> = t.text.chars().collect();
            self.tokens.push(t.clone());
            if chars.len() >= 7 {
                for start in 3..=chars.len() - MIN_TAIL {
                    self.tokens.push(Token { text: chars[start..].iter().collect(), ..t.clone() });
                }
            }
        }
        VecStream { tokens: &mut self.tokens, at: None }
    }
}

/// Drops tokens with no letter or digit in any script (jieba emits spaces
/// and punctuation as tokens; tantivy's own filter keeps ASCII only).
#[derive(Clone)]
struct WordsOnly;

#[derive(Clone)]
struct WordsOnlyWrapper<T>(T);

struct WordsOnlyStream<S>(S);

impl TokenFilter for WordsOnly {
    type Tokenizer<T: Tokenizer> = WordsOnlyWrapper<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> WordsOnlyWrapper<T> {
        WordsOnlyWrapper(tokenizer)
    }
}

impl<T: Tokenizer> Tokenizer for WordsOnlyWrapper<T> {
    type TokenStream<'a> = WordsOnlyStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        WordsOnlyStream(self.0.token_stream(text))
    }
}

impl<S: TokenStream> TokenStream for WordsOnlyStream<S> {
    fn advance(&mut self) -> bool {
        while self.0.advance() {
            if self.0.token().text.chars().any(char::is_alphanumeric) {
                return true;
            }
        }
        false
    }

    fn token(&self) -> &Token {
        self.0.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.0.token_mut()
    }
}

pub fn register(tokenizers: &TokenizerManager) {
    for lang in Language::ALL {
        tokenizers.register(&analyzer_name(lang), analyzer(lang));
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

/// Runs of consecutive Han characters in `text`.
fn cjk_runs(text: &str) -> Vec<Vec<char>> {
    let mut runs = vec![Vec::new()];
    for c in text.chars() {
        match (is_cjk(c), runs.last_mut()) {
            (true, Some(run)) => run.push(c),
            (false, Some(run)) if !run.is_empty() => runs.push(Vec::new()),
            _ => {}
        }
    }
    runs.retain(|r| !r.is_empty());
    runs
}

/// Chinese: jieba's words (search mode), plus every character and every
/// pair of neighbouring characters of each Han run. Dictionary
/// segmentation alone misses when text and query are cut differently
/// (越野/跑/鞋 against 跑鞋); the pairs make any two-character query meet
/// the text, and jieba's words keep ranking sensible.
#[derive(Clone, Default)]
struct ZhTokenizer {
    jieba: JiebaTokenizer,
    tokens: Vec<Token>,
}

struct VecStream<'a> {
    tokens: &'a mut [Token],
    at: Option<usize>,
}

impl TokenStream for VecStream<'_> {
    fn advance(&mut self) -> bool {
        let next = self.at.map_or(0, |i| i + 1);
        self.at = Some(next);
        next < self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.at.unwrap_or(0)]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.at.unwrap_or(0)]
    }
}

impl Tokenizer for ZhTokenizer {
    type TokenStream<'a> = VecStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecStream<'a> {
        self.tokens.clear();
        let mut words = WordsOnly.transform(self.jieba.clone());
        let mut stream = words.token_stream(text);
        let mut position = 0;
        while stream.advance() {
            let mut t = stream.token().clone();
            t.position = position;
            position += 1;
            self.tokens.push(t);
        }
        for run in cjk_runs(text) {
            for (i, c) in run.iter().enumerate() {
                let mut piece = c.to_string();
                self.tokens.push(Token { text: piece.clone(), position, ..Token::default() });
                position += 1;
                if let Some(next) = run.get(i + 1) {
                    piece.push(*next);
                    self.tokens.push(Token { text: piece, position, ..Token::default() });
                    position += 1;
                }
            }
        }
        VecStream { tokens: &mut self.tokens, at: None }
    }
}

/// What a query must match in `lang`'s fields: for Chinese, each pair of
/// neighbouring Han characters (a lone character stands for itself) and
/// the words of any other script; elsewhere, the analyzed words.
pub fn query_terms(lang: Language, text: &str) -> Vec<String> {
    if lang != Language::Zh {
        return terms(lang, text);
    }
    let mut out: Vec<String> = Vec::new();
    for run in cjk_runs(text) {
        if run.len() == 1 {
            out.push(run[0].to_string());
        }
        for pair in run.windows(2) {
            out.push(pair.iter().collect());
        }
    }
    let rest: String = text.chars().map(|c| if is_cjk(c) { ' ' } else { c }).collect();
    let mut latin = TextAnalyzer::builder(SimpleTokenizer::default()).filter(LowerCaser).build();
    let mut stream = latin.token_stream(&rest);
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out.dedup();
    out
}

/// The terms a query's `text` becomes in `lang`'s fields.
pub fn terms(lang: Language, text: &str) -> Vec<String> {
    let mut a = query_analyzer(lang);
    let mut stream = a.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        let t = &stream.token().text;
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_languages_stem_and_fold() {
        assert_eq!(terms(Language::En, "Running shoes"), ["run", "shoe"]);
        assert_eq!(terms(Language::De, "Schuhe"), terms(Language::De, "Schuh"));
        assert_eq!(terms(Language::De, "Trailläufer"), terms(Language::De, "traillaufer"));
        assert_eq!(terms(Language::Es, "zapatillas"), terms(Language::Es, "zapatilla"));
        assert_eq!(terms(Language::Pt, "camisetas"), terms(Language::Pt, "camiseta"));
    }

    fn indexed(lang: Language, text: &str) -> Vec<String> {
        let mut a = analyzer(lang);
        let mut stream = a.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    #[test]
    fn german_compounds_are_found_by_their_tails() {
        let doc = indexed(Language::De, "Wanderschuhe und Trail-Laufschuhe");
        let q = terms(Language::De, "Schuhe");
        assert_eq!(q, ["schuh"]);
        assert!(doc.contains(&q[0]), "{doc:?}");
        assert!(!indexed(Language::De, "Zelt").iter().any(|t| t.len() < 4), "short words stay whole");
    }

    #[test]
    fn chinese_is_segmented_into_words_and_their_parts() {
        let t = indexed(Language::Zh, "智能手机壳，黑色");
        assert!(t.contains(&"手机".to_string()), "{t:?}");
        assert!(t.contains(&"智能手机".to_string()) || t.contains(&"智能".to_string()), "{t:?}");
        assert!(!t.iter().any(|x| x == "，"), "punctuation dropped: {t:?}");
        assert!(t.contains(&"机壳".to_string()), "neighbouring pairs too: {t:?}");
    }

    #[test]
    fn chinese_queries_match_by_character_pairs() {
        assert_eq!(query_terms(Language::Zh, "跑鞋"), ["跑鞋"]);
        assert_eq!(query_terms(Language::Zh, "智能手机"), ["智能", "能手", "手机"]);
        assert_eq!(query_terms(Language::Zh, "鞋"), ["鞋"]);
        assert_eq!(query_terms(Language::Zh, "iPhone 手机壳"), ["手机", "机壳", "iphone"]);
        let doc = indexed(Language::Zh, "越野跑鞋");
        assert!(query_terms(Language::Zh, "跑鞋").iter().all(|q| doc.contains(q)), "{doc:?}");
    }
}
