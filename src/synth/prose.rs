//! Varied prose for the site-shaped corpus: sentences composed word by word from our own
//! vocabulary and patterns, so that unrelated answers share few character 4-grams (the real
//! site's unrelated answers share 1–4%), unlike the template corpus where two random pages
//! share a fifth. All words and patterns are written here; nothing is copied from pages.

use super::Rng;

const NOUNS: &[&str] = &[
    "医保",
    "个人账户",
    "统筹基金",
    "门诊费用",
    "住院费用",
    "报销比例",
    "起付标准",
    "封顶线",
    "定点医院",
    "定点药店",
    "异地就医",
    "备案手续",
    "参保人员",
    "缴费年限",
    "职工医保",
    "居民医保",
    "灵活就业人员",
    "退休人员",
    "新生儿",
    "大病保险",
    "医疗救助",
    "慢性病",
    "特殊病种",
    "药品目录",
    "诊疗项目",
    "医用耗材",
    "电子凭证",
    "社保卡",
    "家庭共济",
    "生育津贴",
    "产检费用",
    "分娩费用",
    "转诊证明",
    "出院小结",
    "费用清单",
    "发票原件",
    "身份证件",
    "银行账户",
    "医保中心",
    "经办窗口",
    "线上平台",
    "手机应用",
    "服务热线",
    "社区医院",
    "乡镇卫生院",
    "三级医院",
    "二级医院",
    "专科医院",
    "中医院",
    "口腔科",
    "康复治疗",
    "护理服务",
    "长期护理",
    "体检项目",
    "跨省结算",
    "直接结算",
    "手工报销",
    "先行支付",
    "自付部分",
    "乙类药品",
    "甲类药品",
    "检查费用",
    "床位费",
    "手术费",
    "挂号费",
    "药费",
    "补助资金",
    "财政补贴",
    "缴费基数",
    "缴费档次",
    "待遇等待期",
    "结算单",
    "审核结果",
    "到账时间",
    "办理时限",
    "申请材料",
    "授权书",
    "亲属关系证明",
    "户籍证明",
    "居住证",
    "工作证明",
    "单位",
    "用人单位",
    "人事部门",
    "税务部门",
    "医疗机构",
    "基层医院",
    "门诊统筹",
    "普通门诊",
    "急诊",
    "留观",
    "日间手术",
    "慢病门诊",
    "处方",
    "外购药品",
    "双通道药品",
    "谈判药品",
    "集采药品",
    "耗材",
    "检查单",
    "病历",
    "诊断证明",
    "费用明细",
    "余额",
    "划入金额",
    "年度限额",
    "支付范围",
    "报销流程",
];
const VERBS: &[&str] = &[
    "办理", "申请", "提交", "查询", "支付", "报销", "结算", "使用", "转移", "接续", "核验", "审核",
    "缴纳", "补缴", "暂停", "恢复", "开通", "绑定", "领取", "确认", "调整", "提高", "降低", "扩大",
    "纳入", "享受", "咨询", "预约", "携带", "保留", "上传", "填写", "打印", "登录", "选择", "变更",
    "注销", "冻结", "核对", "备案", "计算", "划拨", "返还", "垫付", "减免", "认定", "评估", "复核",
    "公示", "通知",
];
const ADVERBS: &[&str] = &[
    "一般",
    "通常",
    "需要",
    "可以",
    "应当",
    "及时",
    "提前",
    "按规定",
    "按比例",
    "全额",
    "优先",
    "分别",
    "统一",
    "逐步",
    "暂时",
    "直接",
    "另行",
    "同步",
    "原则上",
    "据实",
];
const ADJECTIVES: &[&str] = &[
    "相应的",
    "具体的",
    "最新的",
    "当地的",
    "本人的",
    "必要的",
    "完整的",
    "有效的",
    "合规的",
    "较高的",
    "较低的",
    "额外的",
    "主要的",
    "不同的",
    "统一的",
    "正式的",
];
const CONNECTORS: &[&str] = &[
    "但是",
    "同时",
    "此外",
    "另外",
    "如果",
    "因此",
    "其中",
    "例如",
    "需要注意的是",
    "总体来看",
    "具体来说",
    "一般情况下",
    "在实际操作中",
    "按照现行规定",
    "对于多数人来说",
    "从去年开始",
    "在这种情况下",
    "换句话说",
    "相比之下",
    "除此之外",
];
const GROUPS: &[&str] = &[
    "参保人",
    "退休职工",
    "在职职工",
    "学生",
    "老年人",
    "外来务工人员",
    "个体户",
    "低保对象",
    "残疾人",
    "孕产妇",
    "儿童",
    "军人家属",
    "农村居民",
    "城镇居民",
];
const CITIES: &[&str] = &[
    "临川", "松阳", "青阳", "柳溪", "东屏", "南陵", "河口", "石门", "安平", "永宁", "长丰", "白水",
    "云岭", "桐城", "泽州", "海晏", "兰溪", "沙洲", "北岸", "西凉", "太和", "凤台", "宁远", "新安",
    "金湖", "玉山", "清源", "平川", "瑞安", "丰城", "江口", "崇义", "德安", "乐平", "广丰", "万载",
    "宜丰", "上栗", "芦溪", "分宜", "铅山", "弋阳", "横峰", "婺源",
];
const PATTERNS: &[&str] = &[
    "{C}，{G}{A}{V}{N}。",
    "{G}在{N}{V}{N}时，{A}{V}{J}{N}。",
    "{N}的{N}一般为{P}%，{C}，{N}{A}{V}。",
    "{Y}年起，{T}{V}了{N}，{G}可以{V}{N}。",
    "{C}，{V}{N}需要{V}{N}和{N}。",
    "{N}{A}在{D}个工作日内{V}，{V}后{V}到{N}。",
    "{T}的{G}{V}{N}后，{N}按{P}%{V}。",
    "{V}{N}前，{A}{V}{J}{N}，避免{V}{N}。",
    "{N}和{N}不同，{N}{A}{V}{N}。",
    "{C}，{N}每年{V}一次，时间为{M}月至{M}月。",
    "{G}如果{V}{N}，可以到{N}{V}{N}。",
    "{N}的{N}上限为{K}元，超出部分由{G}{V}。",
    "{C}，{T}对{G}另有{N}，{N}可减免{P}%。",
    "在{N}发生的{N}，{A}由{N}{V}。",
    "{G}{V}{N}时，{N}会{V}{J}{N}。",
    "{N}中断{D}个月以上的，{N}{A}{V}，{V}后从次月起{V}。",
    "目前{T}等{D}个地区已经{V}{N}，其他地区{A}{V}。",
    "{V}{N}的渠道包括{N}、{N}和{N}。",
];
const QUESTIONS: &[&str] = &[
    "怎么办理",
    "能报销多少",
    "需要哪些材料",
    "可以异地用吗",
    "多久到账",
    "有什么限制",
    "在哪里查询",
    "断缴了怎么办",
    "能给家人用吗",
    "今年有什么变化",
    "可以线上申请吗",
    "报销比例是多少",
    "起付线是多少",
    "和普通门诊有什么区别",
];

fn fill(rng: &mut Rng, pattern: &str, city: &str) -> String {
    let mut out = String::with_capacity(pattern.len() * 3);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '{' {
            out.push(c);
            continue;
        }
        let key: String = chars.by_ref().take_while(|&k| k != '}').collect();
        match key.as_str() {
            "N" => out.push_str(rng.pick::<&str>(NOUNS)),
            "V" => out.push_str(rng.pick::<&str>(VERBS)),
            "A" => out.push_str(rng.pick::<&str>(ADVERBS)),
            "J" => out.push_str(rng.pick::<&str>(ADJECTIVES)),
            "C" => out.push_str(rng.pick::<&str>(CONNECTORS)),
            "G" => out.push_str(rng.pick::<&str>(GROUPS)),
            "T" => out.push_str(city),
            "P" => out.push_str(&(rng.range(2, 19) * 5).to_string()),
            "Y" => out.push_str(&rng.range(2019, 2026).to_string()),
            "M" => out.push_str(&rng.range(1, 12).to_string()),
            "D" => out.push_str(&rng.range(2, 30).to_string()),
            "K" => out.push_str(&(rng.range(2, 80) * 500).to_string()),
            _ => {}
        }
    }
    out
}

/// A sentence about `city`.
pub fn sentence(rng: &mut Rng, city: &str) -> String {
    let p = *rng.pick(PATTERNS);
    fill(rng, p, city)
}

/// A question title.
pub fn title(rng: &mut Rng, city: &str) -> String {
    let subject = *rng.pick(NOUNS);
    let q = *rng.pick(QUESTIONS);
    match rng.below(3) {
        0 => format!("{city}{subject}{q}"),
        1 => format!("{}年{city}{subject}{q}", rng.range(2023, 2026)),
        _ => format!("{subject}{q}"),
    }
}

/// A city name.
pub fn city(rng: &mut Rng) -> &'static str {
    rng.pick::<&str>(CITIES)
}

/// Body lines of an answer of about `target_chars` characters: an opening, sections with
/// a heading and paragraphs or list items, a closing.
pub fn answer(rng: &mut Rng, title: &str, city: &str, target_chars: usize) -> Vec<String> {
    let mut lines = vec![format!("关于{title}，整理如下：")];
    let mut chars = 0;
    let mut section = 0;
    while chars < target_chars {
        section += 1;
        if rng.chance(0.6) {
            lines.push(format!(
                "{}、{}{}",
                super::numeral(section),
                rng.pick::<&str>(NOUNS),
                rng.pick::<&str>(VERBS)
            ));
        }
        let items = rng.range(1, 3);
        for i in 1..=items {
            let n = rng.range(1, 4);
            let p: String = (0..n).map(|_| sentence(rng, city)).collect();
            chars += p.chars().count();
            if items > 1 && rng.chance(0.5) {
                lines.push(format!("{i}. {}：{p}", rng.pick::<&str>(NOUNS)));
            } else {
                lines.push(p);
            }
            if chars >= target_chars {
                break;
            }
        }
    }
    lines.push(sentence(rng, city));
    lines
}
