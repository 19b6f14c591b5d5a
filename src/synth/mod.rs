//! Synthetic pages in the site's layout, with labelled duplicates: the bundled sample, test
//! corpora and benchmark corpora.
//!
//! All text is composed here from our own templates and word lists (never copied from real
//! pages). A page is a question title, optional header disclaimer, an answer body with
//! headings, numbered and bulleted items, a footer disclaimer, optional trending terms, a
//! related list drawn from a shared pool (so snippets repeat across pages as on the real
//! site) and optional navigation. Some pages are planted duplicates of an earlier page:
//!
//! * `exact`: the same body under other boilerplate, related list, encoding or line endings;
//! * `near_a`: spacing and punctuation changes, ≤ 1% of characters edited, one sentence
//!   added or removed;
//! * `near_b`: 2–5% of characters edited, or one paragraph of four or more dropped;
//! * `negative`: a different article that shares one paragraph of four with another (a hard
//!   negative: must *not* be merged).
//!
//! Every file's label is written to `.labels.jsonl` in the output folder (hidden, so a run
//! over the folder does not read it). Generation is deterministic for a given seed.

pub mod prose;

use std::io::Write;
use std::path::Path;

use encoding_rs::GB18030;
use serde::Serialize;

/// The labels file written beside the pages.
pub const LABELS_FILE: &str = ".labels.jsonl";

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Number of pages.
    pub pages: usize,
    /// Seed.
    pub seed: u64,
    /// The bundled sample: every feature at least once, plus two bad files.
    pub sample: bool,
    /// What the pages look like.
    pub shape: Shape,
    /// How the pages' bytes are written.
    pub encodings: Encodings,
}

/// How a generated corpus's pages are encoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Encodings {
    /// Mostly UTF-8, with a few pages in GB18030, UTF-16, with a BOM, CRLF line ends or
    /// compressed.
    #[default]
    Mixed,
    /// Every page in GB18030, as a site serving GBK writes them (the same pages as
    /// `mixed`, only the bytes differ).
    Gb18030,
}

/// The shape of a generated corpus.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Shape {
    /// Answers of 0.5–6k characters from a few dozen sentence templates (two random pages
    /// share a fifth of their 4-grams: a dense corpus), 5–20 related blocks from a pool of
    /// a quarter as many snippets as pages.
    #[default]
    Templated,
    /// The real site's proportions: answers of 300–2,000 characters of varied prose
    /// (unrelated answers share a few percent of their 4-grams), 12–20 related blocks of
    /// ~150–200 characters from a pool of 400, the related list 65–85% of a page's bytes.
    Site,
}

/// Snippets in the site-shaped corpus's related-block pool.
const SITE_POOL: usize = 400;

/// What was written.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Files written (pages and bad files).
    pub files: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// One line of `.labels.jsonl`.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Label {
    /// File path relative to the output folder.
    pub source: String,
    /// Pages with the same group are duplicates of each other.
    pub group: u64,
    /// `original`, `exact`, `near_a`, `near_b`, `negative`, `no_answer` or `bad`.
    pub role: String,
    /// Source of the page it was derived from (duplicates and hard negatives).
    pub base: Option<String>,
}

/// splitmix64: tiny, fast, and the same on every platform and version.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1A4_F87D)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    /// A random element.
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

const CITIES: &[&str] = &[
    "临川", "松阳", "青阳", "柳溪", "东屏", "南陵", "河口", "石门", "安平", "永宁", "长丰", "白水",
    "云岭", "桐城", "泽州", "海晏", "兰溪", "沙洲", "北岸", "西凉", "太和", "凤台", "宁远", "新安",
    "深圳", "杭州", "成都", "武汉", "西安", "长沙", "南宁", "昆明", "太原", "济南", "郑州", "合肥",
];
const SUBJECTS: &[&str] = &[
    "医保个人账户",
    "职工医保",
    "城乡居民医保",
    "门诊统筹",
    "异地就医备案",
    "生育津贴",
    "慢特病待遇",
    "大病保险",
    "家庭共济",
    "医保电子凭证",
    "住院报销",
    "药店购药",
    "补缴医保",
    "灵活就业参保",
    "新生儿参保",
    "长期护理保险",
    "口腔治疗报销",
    "转诊手续",
];
const QUESTIONS: &[&str] = &[
    "可以在外地使用吗",
    "怎么办理",
    "报销比例是多少",
    "需要什么材料",
    "有什么限制",
    "多久能到账",
    "断缴了怎么办",
    "能给家人用吗",
    "在哪里查询",
    "和普通门诊有什么区别",
    "今年有哪些变化",
    "办理流程是怎样的",
    "额度用完了怎么办",
    "可以线上申请吗",
];
const GROUPS: &[&str] = &[
    "参保人",
    "退休职工",
    "在职职工",
    "灵活就业人员",
    "学生",
    "新生儿家长",
    "异地务工人员",
    "老年居民",
];
const CHANNELS: &[&str] = &[
    "国家医保服务平台App",
    "当地医保经办窗口",
    "医保部门公众号",
    "社区服务中心",
    "定点医院服务台",
    "政务服务网",
    "医保热线",
];
const DOCS: &[&str] = &[
    "身份证",
    "医保电子凭证",
    "出院小结",
    "费用清单",
    "诊断证明",
    "户口簿",
    "银行卡",
    "备案回执",
];
const PLACES: &[&str] = &[
    "定点医院",
    "定点药店",
    "社区卫生服务中心",
    "二级医院",
    "三级医院",
    "乡镇卫生院",
    "专科医院",
];
const ACTIONS: &[&str] = &[
    "办理备案",
    "提交申请",
    "核对账户",
    "预约挂号",
    "结算费用",
    "补齐材料",
    "确认待遇",
    "查询余额",
];
const HEADINGS: &[&str] = &[
    "适用范围",
    "办理条件",
    "所需材料",
    "办理流程",
    "报销标准",
    "注意事项",
    "常见问题",
    "政策依据",
    "费用结算",
    "待遇享受",
    "特殊情况处理",
    "操作建议",
];
const SENTENCES: &[&str] = &[
    "{g}在{p}就医时，符合规定的费用可以按比例报销，{s}的支付比例一般在{n}%左右。",
    "办理{s}需要携带{d}和{d2}，到{c}现场提交，也可以通过{ch}在线办理。",
    "根据{city}最新规定，{s}的年度支付限额提高到{m}元，超出部分由个人承担。",
    "如果{g}在{city}长期居住，应当先在参保地{a}，否则只能先行垫付再回参保地报销。",
    "{s}一般在申请后{k}个工作日内完成审核，审核通过后费用会直接划入本人账户。",
    "需要注意的是，{s}不能用于美容、保健等非治疗性项目，相关费用需要个人自付。",
    "{city}自{y}年{mo}月起调整了{s}的起付标准，{p}的起付线降低为{m2}元。",
    "{g}可以通过{ch}查询{s}的使用记录，发现异常应当及时联系经办机构。",
    "在{p}发生的门诊费用，{s}可以支付政策范围内个人负担的部分。",
    "对于跨省流动的{g}，{s}可以随本人转移接续，缴费年限累计计算。",
    "若{s}中断缴费超过{k}个月，待遇会暂停，补缴后从次月起恢复。",
    "部分地区已经开通{s}的线上结算功能，{g}在{p}刷医保电子凭证即可完成支付。",
    "经办人员会对{d}进行核验，材料不全的需要在{k}个工作日内补齐。",
    "{s}的报销比例与医院级别有关，级别越高，统筹基金支付的比例越低。",
    "{g}办理时如遇到问题，可以拨打医保热线咨询，或者到{c}当面询问。",
    "{city}对{g}另有补助政策，个人缴费部分可以减免{n2}%。",
    "使用{s}时需要出示{d}，由{p}工作人员在系统中完成结算。",
    "目前{s}已在{city}等{k2}个地区试点运行，其他地区将陆续推开。",
    "按照规定，{s}每年集中办理一次，办理时间为{mo}月至{mo2}月。",
    "建议{g}提前了解当地政策，并保留好{d}等票据，以便后续核查。",
];
const INTROS: &[&str] = &[
    "关于{s}{q}的问题，结合各地公开政策整理如下：",
    "{s}{q}，需要根据参保地政策具体判断，下面分几个方面说明。",
    "很多{g}关心{s}{q}，简单来说要看参保类型和办理情况。",
];
const CONCLUSIONS: &[&str] = &[
    "总的来看，{s}的使用要以参保地政策为准，建议{g}及时{a}，保障自身权益。",
    "综上，办理{s}前先确认条件和材料，能少跑很多冤枉路。",
    "各地{s}政策存在差异，具体以{city}医保部门公布的信息为准。",
];
const ANSWERS: &[&str] = &[
    "可以",
    "不能",
    "需要",
    "不需要",
    "一般可以",
    "三个工作日",
    "六成左右",
];
const CATEGORIES: &[&str] = &["健康新闻", "医保政策", "健康问答"];
const TERMS: &[&str] = &[
    "医保报销比例",
    "异地就医备案流程",
    "个人账户余额查询",
    "门诊统筹额度",
    "生育津贴计算",
    "医保断缴补缴",
];

fn fill(rng: &mut Rng, t: &str, subject: &str, city: &str) -> String {
    let mut out = String::with_capacity(t.len() + 32);
    let mut rest = t;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = start + rest[start..].find('}').expect("template braces balance");
        let key = &rest[start + 1..end];
        let v: String = match key {
            "g" => rng.pick(GROUPS).to_string(),
            "p" => rng.pick(PLACES).to_string(),
            "s" => subject.to_string(),
            "d" | "d2" => rng.pick(DOCS).to_string(),
            "c" => rng.pick(PLACES).to_string(),
            "ch" => rng.pick(CHANNELS).to_string(),
            "city" => city.to_string(),
            "a" => rng.pick(ACTIONS).to_string(),
            "q" => rng.pick(QUESTIONS).to_string(),
            "n" | "n2" => (rng.range(3, 18) * 5).to_string(),
            "m" => (rng.range(2, 40) * 500).to_string(),
            "m2" => (rng.range(1, 20) * 50).to_string(),
            "k" | "k2" => rng.range(2, 30).to_string(),
            "y" => rng.range(2019, 2026).to_string(),
            "mo" | "mo2" => rng.range(1, 12).to_string(),
            _ => String::new(),
        };
        out.push_str(&v);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// An article: title and body paragraphs (each one line of the page).
#[derive(Debug, Clone)]
struct Article {
    title: String,
    /// Body lines as they appear on the page (with indentation and list markers).
    lines: Vec<String>,
}

fn paragraph(rng: &mut Rng, subject: &str, city: &str, sentences: usize) -> String {
    (0..sentences)
        .map(|_| {
            let t = *rng.pick(SENTENCES);
            fill(rng, t, subject, city)
        })
        .collect()
}

fn article(rng: &mut Rng, target_chars: usize) -> Article {
    let subject = *rng.pick(SUBJECTS);
    let city = *rng.pick(CITIES);
    let year = rng.range(2023, 2026);
    let q = *rng.pick(QUESTIONS);
    let title = match rng.below(3) {
        0 => format!("{city}{subject}{q}"),
        1 => format!("{year}年{city}{subject}{q}"),
        _ => format!("{subject}{q}"),
    };
    let mut lines = Vec::new();
    let intro = *rng.pick(INTROS);
    lines.push(fill(rng, intro, subject, city));
    let mut chars = 0usize;
    let mut section = 0;
    while chars < target_chars && section < 30 {
        let h = *rng.pick(HEADINGS);
        lines.push(format!("{}、{}", numeral(section + 1), h));
        section += 1;
        match rng.below(3) {
            0 => {
                for i in 1..=rng.range(2, 4) {
                    let sub = *rng.pick(ACTIONS);
                    lines.push(format!("  {i}. {sub}"));
                    let n = rng.range(1, 2);
                    let p = paragraph(rng, subject, city, n);
                    chars += p.chars().count();
                    lines.push(format!("    {p}"));
                }
            }
            1 => {
                for _ in 0..rng.range(2, 4) {
                    let item = *rng.pick(HEADINGS);
                    let p = paragraph(rng, subject, city, 1);
                    chars += p.chars().count();
                    // The site leaves a space before the colon where markup was removed.
                    lines.push(format!("  • {item} :{p}"));
                }
            }
            _ => {
                for _ in 0..rng.range(1, 3) {
                    let n = rng.range(2, 4);
                    let p = paragraph(rng, subject, city, n);
                    chars += p.chars().count();
                    lines.push(p);
                }
            }
        }
    }
    let concl = *rng.pick(CONCLUSIONS);
    lines.push(fill(rng, concl, subject, city));
    Article { title, lines }
}

/// Paragraphs of a synthetic answer of about `target_chars` characters (the body lines of
/// a generated page, indentation trimmed): text for benches and quality tests.
pub fn answer_paragraphs(rng: &mut Rng, target_chars: usize) -> Vec<String> {
    article(rng, target_chars)
        .lines
        .iter()
        .map(|l| l.trim().to_string())
        .collect()
}

/// Two synthetic answers written from the same sentence templates about the same subject,
/// with different facts (city, groups, places, numbers): a hard negative for duplicate
/// detection. One paragraph per `sentences` entry, each of that many sentences.
pub fn same_template_pair(rng: &mut Rng, sentences: &[usize]) -> (Vec<String>, Vec<String>) {
    let subject = *rng.pick(SUBJECTS);
    let city_a = *rng.pick(CITIES);
    let mut city_b = *rng.pick(CITIES);
    while city_b == city_a {
        city_b = *rng.pick(CITIES);
    }
    let plan: Vec<Vec<&str>> = sentences
        .iter()
        .map(|&n| (0..n).map(|_| *rng.pick(SENTENCES)).collect())
        .collect();
    let mut render = |city: &str| -> Vec<String> {
        plan.iter()
            .map(|p| p.iter().map(|t| fill(rng, t, subject, city)).collect())
            .collect()
    };
    let a = render(city_a);
    let b = render(city_b);
    (a, b)
}

/// A Chinese numeral for 1–99 (一 … 十 … 二十).
fn numeral(n: usize) -> String {
    const DIGITS: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match (n / 10, n % 10) {
        (0, d) => DIGITS[d].to_string(),
        (1, d) => format!("十{}", DIGITS[d]),
        (t, d) => format!("{}十{}", DIGITS[t], DIGITS[d]),
    }
}

/// A related-list block as the site shows it.
#[derive(Debug, Clone)]
struct Block {
    title: String,
    text: String,
    category: &'static str,
    date: String,
}

fn snippet_pool(rng: &mut Rng, n: usize) -> Vec<Block> {
    (0..n)
        .map(|_| {
            let a = article(rng, 200);
            let mut text: String = a
                .lines
                .iter()
                .map(|l| l.trim().to_string())
                .collect::<Vec<_>>()
                .join(" ");
            if rng.chance(0.3) {
                text = format!("{} {}", rng.pick(ANSWERS), text);
            }
            // The site cuts snippets off mid-sentence.
            let cut = rng.range(90, 180);
            let text: String = text.chars().take(cut).collect();
            Block {
                title: a.title,
                text: text.trim_end().to_string(),
                category: rng.pick::<&str>(CATEGORIES),
                date: format!("2025-{:02}-{:02}", rng.range(1, 6), rng.range(1, 28)),
            }
        })
        .collect()
}

/// How a page is framed around its body.
#[derive(Debug, Clone, Copy)]
struct Frame {
    header: bool,
    long_footer: bool,
    trending: usize,
    nav: bool,
    blocks: usize,
}

fn render(a: &Article, frame: Frame, pool: &[Block], rng: &mut Rng) -> String {
    let mut s = String::new();
    s.push_str(&a.title);
    s.push_str("\n\n");
    if frame.header {
        s.push_str(
            "本信息整理自互联网公开渠道，内容仅作参考，具体请以当地医保部门的正式通知为准。\n\n",
        );
    }
    for l in &a.lines {
        s.push_str(l);
        s.push_str("\n\n");
    }
    s.push_str("提示：本内容不能代替面诊，身体不适请及时到正规医院就诊。");
    if frame.long_footer {
        s.push_str("文中政策信息来自公开资料，可能有调整，请以官方发布为准。");
    }
    s.push('\n');
    if frame.trending > 0 || rng.chance(0.2) {
        s.push_str("大家都在搜\n");
        for _ in 0..frame.trending {
            s.push_str(rng.pick::<&str>(TERMS));
            s.push('\n');
        }
    }
    s.push_str("相关推荐\n\n");
    for _ in 0..frame.blocks {
        let b = rng.pick(pool);
        s.push_str(&format!(
            "{}\n\n{}\n\n{} {}\n\n",
            b.title, b.text, b.category, b.date
        ));
    }
    if frame.nav {
        s.push_str("首页 顶部");
    }
    s
}

/// Related blocks in the site's proportions: a question title and ~150–200 characters of
/// varied prose, cut off mid-sentence.
fn site_pool(rng: &mut Rng, n: usize) -> Vec<Block> {
    (0..n)
        .map(|_| {
            let city = prose::city(rng);
            let title = prose::title(rng, city);
            let mut text = String::new();
            let cut = rng.range(150, 200);
            while text.chars().count() < cut {
                text.push_str(&prose::sentence(rng, city));
                if rng.chance(0.3) {
                    text.push(' ');
                }
            }
            if rng.chance(0.3) {
                text = format!("{} {}", rng.pick(ANSWERS), text);
            }
            let text: String = text.chars().take(cut).collect();
            Block {
                title,
                text: text.trim_end().to_string(),
                category: rng.pick::<&str>(CATEGORIES),
                date: format!("2025-{:02}-{:02}", rng.range(1, 6), rng.range(1, 28)),
            }
        })
        .collect()
}

/// An answer in the site's proportions: 300–2,000 characters (log-uniform) of varied prose.
fn site_article(rng: &mut Rng) -> Article {
    let city = prose::city(rng);
    let title = prose::title(rng, city);
    let target = (300.0 * (2000.0f64 / 300.0).powf(rng.unit())) as usize;
    let lines = prose::answer(rng, &title, city, target);
    Article { title, lines }
}

fn random_frame(rng: &mut Rng, shape: Shape) -> Frame {
    Frame {
        header: rng.chance(0.4),
        long_footer: rng.chance(0.4),
        trending: if rng.chance(0.3) { rng.range(1, 3) } else { 0 },
        nav: rng.chance(0.4),
        blocks: match shape {
            Shape::Templated => rng.range(5, 20),
            Shape::Site => rng.range(12, 20),
        },
    }
}

const PUNCT_SWAPS: &[(char, char)] = &[
    ('，', ','),
    ('：', ':'),
    ('；', ';'),
    ('（', '('),
    ('）', ')'),
];
const EDIT_CHARS: &[char] = &[
    '的', '了', '和', '在', '是', '有', '可', '以', '办', '理', '费', '用',
];

/// Edits `share` of the body's characters (substitutions, insertions, deletions).
fn edit_chars(a: &Article, share: f64, rng: &mut Rng) -> Article {
    let mut out = a.clone();
    for line in &mut out.lines {
        let mut chars: Vec<char> = line.chars().collect();
        let edits = ((chars.len() as f64) * share).round() as usize;
        for _ in 0..edits {
            if chars.len() < 8 {
                break;
            }
            let i = rng.range(4, chars.len() - 1);
            match rng.below(3) {
                0 => chars[i] = *rng.pick(EDIT_CHARS),
                1 => chars.insert(i, *rng.pick(EDIT_CHARS)),
                _ => {
                    chars.remove(i);
                }
            }
        }
        *line = chars.into_iter().collect();
    }
    out
}

/// Tier A: punctuation and spacing changes, ≤ 1% characters edited, one sentence added or
/// removed.
fn near_a(a: &Article, rng: &mut Rng) -> Article {
    let mut out = edit_chars(a, 0.008, rng);
    for line in &mut out.lines {
        let mut s = String::new();
        for ch in line.chars() {
            match PUNCT_SWAPS.iter().find(|(f, _)| *f == ch) {
                Some((_, t)) if rng.chance(0.5) => s.push(*t),
                _ => s.push(ch),
            }
            if ch == '，' && rng.chance(0.2) {
                s.push(' ');
            }
        }
        *line = s;
    }
    let long: Vec<usize> = (0..out.lines.len())
        .filter(|&i| out.lines[i].chars().count() > 60)
        .collect();
    if rng.chance(0.5) && !long.is_empty() {
        // Remove the last sentence of one long paragraph.
        let i = *rng.pick(&long);
        let l = &out.lines[i];
        let trimmed = l.trim_end_matches('。');
        if let Some(p) = trimmed.rfind('。') {
            out.lines[i] = format!("{}。", &trimmed[..p]);
        }
    } else {
        let extra = "如有疑问，可以向当地医保经办机构咨询。".to_string();
        let i = rng.below(out.lines.len());
        out.lines[i].push_str(&extra);
    }
    out
}

/// Tier B: 2–5% characters edited, or one paragraph (of four or more) dropped.
fn near_b(a: &Article, rng: &mut Rng) -> Article {
    let paras: Vec<usize> = (0..a.lines.len())
        .filter(|&i| a.lines[i].chars().count() > 40)
        .collect();
    if paras.len() >= 4 && rng.chance(0.5) {
        let mut out = a.clone();
        out.lines.remove(*rng.pick(&paras));
        out
    } else {
        let share = 0.02 + (rng.below(31) as f64) / 1000.0;
        edit_chars(a, share, rng)
    }
}

/// A different article that shares exactly one long paragraph with `a`.
fn hard_negative(a: &Article, rng: &mut Rng, shape: Shape) -> Article {
    let mut other = match shape {
        Shape::Templated => article(rng, 800),
        Shape::Site => site_article(rng),
    };
    let shared: Vec<&String> = a.lines.iter().filter(|l| l.chars().count() > 40).collect();
    if let Some(p) = shared.first() {
        let at = rng.below(other.lines.len());
        other.lines.insert(at, (*p).clone());
    }
    other
}

/// How a page's bytes are written.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Encoding {
    Utf8,
    Utf8Bom,
    Gb18030,
    Utf16Le,
    Crlf,
    Gzip,
    Zstd,
}

fn encode(text: &str, enc: Encoding) -> std::io::Result<Vec<u8>> {
    Ok(match enc {
        Encoding::Utf8 => text.as_bytes().to_vec(),
        Encoding::Utf8Bom => [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(),
        Encoding::Gb18030 => GB18030.encode(text).0.into_owned(),
        Encoding::Utf16Le => {
            let mut v = vec![0xFF, 0xFE];
            v.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
            v
        }
        Encoding::Crlf => text.replace('\n', "\r\n").into_bytes(),
        Encoding::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(text.as_bytes())?;
            e.finish()?
        }
        Encoding::Zstd => zstd::encode_all(text.as_bytes(), 3)?,
    })
}

fn ext(enc: Encoding) -> &'static str {
    match enc {
        Encoding::Gzip => ".txt.gz",
        Encoding::Zstd => ".txt.zst",
        _ => ".txt",
    }
}

fn random_encoding(rng: &mut Rng) -> Encoding {
    match rng.below(100) {
        0..=2 => Encoding::Gb18030,
        3..=4 => Encoding::Utf8Bom,
        5..=6 => Encoding::Crlf,
        7..=8 => Encoding::Gzip,
        9 => Encoding::Utf16Le,
        _ => Encoding::Utf8,
    }
}

/// Writes the pages and `.labels.jsonl` into `out`.
pub fn generate(opts: &Options, out: &Path) -> std::io::Result<Stats> {
    std::fs::create_dir_all(out)?;
    let mut rng = Rng::new(opts.seed);
    let pool = match opts.shape {
        Shape::Templated => snippet_pool(&mut rng, (opts.pages / 4).clamp(20, 5000)),
        Shape::Site => site_pool(&mut rng, SITE_POOL),
    };
    let mut originals: Vec<(Article, String, u64)> = Vec::new();
    let mut labels = Vec::new();
    let mut stats = Stats::default();
    let mut next_group = 0u64;
    let width = opts.pages.max(1).to_string().len().max(3);

    // The sample forces one of each kind early; larger corpora draw them at random.
    let forced: &[(&str, Encoding)] = if opts.sample {
        &[
            ("exact", Encoding::Gb18030),
            ("exact", Encoding::Gzip),
            ("exact", Encoding::Utf8Bom),
            ("near_a", Encoding::Crlf),
            ("near_a", Encoding::Utf8),
            ("near_b", Encoding::Utf8),
            ("near_b", Encoding::Zstd),
            ("negative", Encoding::Utf8),
            ("no_answer", Encoding::Utf8),
            ("original", Encoding::Utf16Le),
        ]
    } else {
        &[]
    };
    let first_forced = opts.pages.saturating_sub(forced.len()).max(opts.pages / 2);

    for i in 0..opts.pages {
        let (role, enc) = if i >= first_forced && i - first_forced < forced.len() {
            forced[i - first_forced]
        } else if originals.len() < 3 || opts.sample {
            (
                "original",
                if opts.sample {
                    Encoding::Utf8
                } else {
                    random_encoding(&mut rng)
                },
            )
        } else {
            let role = match rng.below(100) {
                0..=5 => "exact",
                6..=11 => "near_a",
                12..=17 => "near_b",
                18..=20 => "negative",
                _ => "original",
            };
            (role, random_encoding(&mut rng))
        };
        let base_idx = if originals.is_empty() {
            0
        } else {
            rng.below(originals.len())
        };
        let frame = random_frame(&mut rng, opts.shape);
        let (art, group, base) = match role {
            "original" | "no_answer" => {
                let a = match opts.shape {
                    // Log-uniform 500–6000 characters: most answers short, some long.
                    Shape::Templated => {
                        let target = (500.0 * 12f64.powf(rng.unit())) as usize;
                        article(&mut rng, target)
                    }
                    Shape::Site => site_article(&mut rng),
                };
                next_group += 1;
                (a, next_group, None)
            }
            "negative" => {
                let (b, src, _) = &originals[base_idx];
                let a = hard_negative(b, &mut rng, opts.shape);
                next_group += 1;
                (a, next_group, Some(src.clone()))
            }
            _ => {
                let (b, src, g) = &originals[base_idx];
                let a = match role {
                    "exact" => b.clone(),
                    "near_a" => near_a(b, &mut rng),
                    _ => near_b(b, &mut rng),
                };
                (a, *g, Some(src.clone()))
            }
        };
        let mut text = render(&art, frame, &pool, &mut rng);
        if role == "no_answer" {
            // Only the title and the related list survived the scrape.
            let start = text.find("相关推荐").unwrap_or(text.len());
            text = format!("{}\n\n{}", art.title, &text[start..]);
        }
        // Drawn as for the mixed corpus either way, so that both give the same pages.
        let enc = match opts.encodings {
            Encodings::Mixed => enc,
            Encodings::Gb18030 => Encoding::Gb18030,
        };
        let name = format!("page_{i:0width$}{}", ext(enc));
        let bytes = encode(&text, enc)?;
        std::fs::write(out.join(&name), &bytes)?;
        stats.files += 1;
        stats.bytes += bytes.len() as u64;
        if role == "original" {
            originals.push((art, name.clone(), group));
        }
        labels.push(Label {
            source: name,
            group,
            role: role.to_string(),
            base,
        });
    }

    if opts.sample {
        // Two bad files: binary bytes, and an empty file.
        let mut bin = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        bin.extend((0..512u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
        std::fs::write(out.join("bad_binary.png"), &bin)?;
        std::fs::write(out.join("bad_empty.txt"), b"")?;
        for (name, len) in [("bad_binary.png", bin.len()), ("bad_empty.txt", 0)] {
            stats.files += 1;
            stats.bytes += len as u64;
            next_group += 1;
            labels.push(Label {
                source: name.into(),
                group: next_group,
                role: "bad".into(),
                base: None,
            });
        }
    }

    let mut f = std::io::BufWriter::new(std::fs::File::create(out.join(LABELS_FILE))?);
    for l in &labels {
        serde_json::to_writer(&mut f, l)?;
        f.write_all(b"\n")?;
    }
    f.flush()?;
    Ok(stats)
}
